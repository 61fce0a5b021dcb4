#include <sqlite3.h>

/// Turns the connection's triggers on (1) or off (0); sqlite3_db_config is variadic, which
/// Swift cannot call. Changing it expires the connection's prepared statements (they are
/// prepared again when next stepped).
static inline int hookrelay_enable_triggers(sqlite3 *db, int on) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, on, (int *)0);
}

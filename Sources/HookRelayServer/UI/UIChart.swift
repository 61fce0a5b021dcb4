import Foundation

/// The last 24 hours of a webhook as an inline SVG: one stacked bar per hour, delivered below
/// failed, each with a title giving its counts; drawn on the server, no script.
struct UIChart {
    let svg: String
    let caption: String

    init(hours: [(hour: Int64, delivered: Int, failed: Int)], now: Int64) {
        let current = now / 3_600_000
        let byHour = Dictionary(hours.map { ($0.hour, ($0.delivered, $0.failed)) }, uniquingKeysWith: { a, _ in a })
        let buckets = (0..<24).map { offset -> (hour: Int64, delivered: Int, failed: Int) in
            let hour = current - 23 + Int64(offset)
            let counts = byHour[hour] ?? (0, 0)
            return (hour, counts.0, counts.1)
        }
        let delivered = buckets.reduce(0) { $0 + $1.delivered }
        let failed = buckets.reduce(0) { $0 + $1.failed }
        let peak = max(1, buckets.map { $0.delivered + $0.failed }.max() ?? 1)
        let width = 24 * 20, height = 120, base = 100
        var parts = [
            #"<svg class="chart" viewBox="0 0 \#(width) \#(height)" role="img" aria-label="Deliveries per hour over the last 24 hours: \#(delivered) delivered, \#(failed) failed" xmlns="http://www.w3.org/2000/svg">"#,
            ##"<line x1="0" y1="\##(base)" x2="\##(width)" y2="\##(base)" stroke="#d0d7de"/>"##,
        ]
        for (index, bucket) in buckets.enumerated() {
            let x = index * 20 + 3
            let okHeight = bucket.delivered * 90 / peak
            let badHeight = bucket.failed * 90 / peak
            let label = String(format: "%02d:00 UTC", Int(bucket.hour % 24))
            parts.append("<g><title>\(label): \(bucket.delivered) delivered, \(bucket.failed) failed</title>")
            if okHeight > 0 { parts.append(#"<rect class="delivered" x="\#(x)" y="\#(base - okHeight)" width="14" height="\#(okHeight)"/>"#) }
            if badHeight > 0 {
                parts.append(#"<rect class="failed" x="\#(x)" y="\#(base - okHeight - badHeight)" width="14" height="\#(badHeight)"/>"#)
            }
            parts.append("</g>")
            // Every sixth hour, and the current one (the bar a reader looks for first), as "now".
            if index == buckets.count - 1 {
                parts.append(#"<text x="\#(x + 14)" y="\#(base + 14)" text-anchor="end">now</text>"#)
            } else if index % 6 == 0, index < buckets.count - 4 {
                parts.append(#"<text x="\#(x)" y="\#(base + 14)">\#(label.prefix(5))</text>"#)
            }
        }
        parts.append("</svg>")
        svg = parts.joined()
        caption = "Per hour, UTC: \(delivered) delivered (green), \(failed) failed (red, on top); peak \(peak) an hour."
    }
}

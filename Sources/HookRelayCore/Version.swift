/// hookrelay's version, shown by `--version` and sent in `user-agent`.
public enum HookRelayVersion {
    public static let string = "0.1.0"
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    public func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(self.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }

    /// A directory path without its trailing slashes (`/` stays `/`).
    public func droppingTrailingSlashes() -> String {
        var path = String(self)
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return path
    }
}

import Testing

@testable import KataPulse

/// The request target and header parsing the router relies on (the fuzz target `request` checks the same
/// properties on random input: Fuzz/Sources/FuzzRequest).
@Suite struct HTTPRequestTests {
    @Test func pathAndQueryAreSplitOnBytes() {
        // "?" or "&" followed by a combining mark is one Character, but still the delimiter.
        let request = HTTPRequest(method: "GET", uri: "/metrics?\u{301}a=1&\u{301}b=\u{301}2", headers: [])
        #expect(request.path == "/metrics")
        #expect(request.query.map { [$0.name, $0.value] } == [["\u{301}a", "1"], ["\u{301}b", "\u{301}2"]])
    }

    @Test func queryValuesArePercentDecoded() {
        let request = HTTPRequest(method: "GET", uri: "/metrics?sandbox=a%2Db+c&x&sandbox=second", headers: [])
        #expect(request.queryValue("sandbox") == "a-b c")
        #expect(request.queryValue("x") == "")
        #expect(request.queryValue("y") == nil)
    }

    @Test func percentEscapesNeedTwoHexDigits() {
        // A sign is not a hex digit: "%+1" is "%" then "+" (a space) then "1", not U+0001.
        #expect(URLQuery.decode("%41%4a%zz%+1%-0%4%") == "AJ%zz% 1%-0%4%")
    }

    @Test func headerListsAreSplitOnBytes() {
        #expect(HeaderList.contains("deflate, GZIP ; q=0.5", "gzip"))
        #expect(!HeaderList.contains("gzip;q=0", "gzip"))
        // q=0 still refuses gzip when a combining mark follows the comma.
        #expect(!HeaderList.contains("gzip;q=0,\u{301}", "gzip"))
        #expect(HeaderList.contains("br,\u{301}x, gzip", "gzip"))
    }
}

import Testing

@testable import KataPulse

@Suite struct PushgatewayTargetTests {
    @Test func parsesURLsAndBuildsTheGroupingPath() throws {
        let plain = try #require(
            PushgatewayTarget(url: "http://gw.example:9091", job: "kata-pulse", instance: "node-1"))
        #expect(plain.host == "gw.example" && plain.port == 9091)
        #expect(plain.path == "/metrics/job/kata-pulse/instance/node-1")
        let defaults = try #require(PushgatewayTarget(url: "http://gw/", job: "j", instance: "i"))
        #expect(defaults.port == 9091 && defaults.path == "/metrics/job/j/instance/i")
        let prefixed = try #require(PushgatewayTarget(url: "http://[::1]:8080/push/", job: "j", instance: "i"))
        #expect(prefixed.host == "::1" && prefixed.port == 8080 && prefixed.path == "/push/metrics/job/j/instance/i")
        for bad in ["https://gw:9091", "gw:9091", "http://:9091", "http://gw:0", "http://gw:x", "http://gw/p?q=1"] {
            #expect(PushgatewayTarget(url: bad, job: "j", instance: "i") == nil, "\(bad)")
        }
        #expect(PushgatewayTarget(url: "http://gw", job: "", instance: "i") == nil)
    }

    @Test func encodesAwkwardLabelValues() throws {
        let spaced = try #require(PushgatewayTarget(url: "http://gw", job: "kata pulse", instance: "a/b"))
        // A slash cannot stand in a path segment: the Pushgateway's base64 form (URL-safe alphabet).
        #expect(spaced.path == "/metrics/job/kata%20pulse/instance@base64/YS9i")
        let empty = try #require(PushgatewayTarget(url: "http://gw", job: "j", instance: ""))
        #expect(empty.path == "/metrics/job/j/instance@base64/=")
        #expect(PushgatewayTarget.base64URL(Array("??>".utf8)) == "Pz8-")
        #expect(PushgatewayTarget.base64URL(Array("ab".utf8)) == "YWI=")
    }
}

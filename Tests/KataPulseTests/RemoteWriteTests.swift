import Foundation
import NIOCore
import PrometheusRemoteWrite
import Testing

@testable import KataPulse

#if canImport(Glibc)
    import Glibc
#endif

private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// A sandbox's rendering with the given `kata_shim_fds` series (one per `fd` value) and one gauge.
private func rendering(_ id: String, fds: [String], threads: Double = 12) -> ByteBuffer {
    let labels = SandboxLabels(sandboxID: id)
    return RenderedSandbox(
        id: id,
        families: [
            MetricFamily(
                name: "kata_shim_fds", help: "Open fds.", type: .gauge,
                samples: fds.map { Sample(name: "kata_shim_fds", labels: labels.labels + [Label("fd", $0)], value: 1) }),
            MetricFamily(
                name: "kata_shim_threads", help: "Threads.", type: .gauge,
                samples: [
                    Sample(name: "kata_shim_threads", labels: labels.labels + [Label("empty", "")], value: threads)
                ]),
            MetricFamily(
                name: "container_cpu_usage_seconds_total", type: .counter,
                samples: [Sample(name: "container_cpu_usage_seconds_total", labels: labels.labels, value: 3)]),
        ], labels: labels
    ).buffer
}

private func round(_ sources: [(String, Int64, ByteBuffer)], time: Int64) -> RemoteWriteRound {
    var round = RemoteWriteRound(Snapshot.empty(now: Double(time) / 1000))
    round.sources = sources.map { .init(key: $0.0, timestamp: $0.1, rendering: $0.2) }
    round.time = time
    return round
}

/// A request's series, read by SwiftProtobuf's code generated from the project's .proto; the agent writes
/// the wire format itself, and must write exactly what that code would (re-serialized, the bytes are equal).
private func decoded(_ request: RemoteWriteRequest) throws -> [Prometheus_TimeSeries] {
    let bytes = try Snappy.uncompress(request.payload)
    let message = try Prometheus_WriteRequest(serializedBytes: bytes)
    #expect(try message.serializedBytes() == bytes, "not the bytes protobuf's own encoder writes")
    #expect(message.timeseries.count == request.samples)
    #expect(request.highestTimestamp == message.timeseries.map { $0.samples[0].timestamp }.max())
    return message.timeseries
}

extension RemoteWriteEncoder {
    /// The series a round adds, in one request, decoded.
    fileprivate mutating func encode(_ round: RemoteWriteRound) -> [Prometheus_TimeSeries] {
        var batcher = RemoteWriteBatcher(maxSamples: .max)
        encode(round, into: &batcher)
        return (try? batcher.takeRest().map(decoded)) ?? []
    }
}

private func labels(_ series: Prometheus_TimeSeries) -> [String: String] {
    Dictionary(uniqueKeysWithValues: series.labels.map { ($0.name, $0.value) })
}

@Suite struct RemoteWriteEncodingTests {
    @Test func seriesCarryTheirSourcesTimeSortedLabelsAndTheExternalLabels() throws {
        var encoder = RemoteWriteEncoder(
            exposition: .kata, externalLabels: [Label("job", "kata-pulse"), Label("instance", "node-1")])
        let series = encoder.encode(round([("shim/a", 1_000, rendering("a", fds: ["0", "1"]))], time: 1_500))
        // The kata families only (exposition kata), each sample at the shim's time, not the round's.
        #expect(series.count == 3)
        for one in series {
            #expect(one.labels.map(\.name) == one.labels.map(\.name).sorted())
            #expect(one.samples.map(\.timestamp) == [1_000])
            #expect(labels(one)["instance"] == "node-1" && labels(one)["job"] == "kata-pulse")
            #expect(labels(one)["sandbox_id"] == "a")
            #expect(!one.labels.contains { $0.value.isEmpty }, "an empty label is sent")
        }
        #expect(Set(series.map { labels($0)["__name__"]! }) == ["kata_shim_fds", "kata_shim_threads"])
        // The same rendering again (the shim failed this round): nothing new for the store.
        #expect(encoder.encode(round([("shim/a", 1_000, rendering("a", fds: ["0", "1"]))], time: 2_500)).isEmpty)
    }

    @Test func endedSeriesAndRemovedSandboxesGetOneStalenessMarker() throws {
        var encoder = RemoteWriteEncoder(exposition: .all, externalLabels: [])
        _ = encoder.encode(
            round(
                [("shim/a", 1_000, rendering("a", fds: ["0", "1"])), ("shim/b", 1_010, rendering("b", fds: ["0"]))],
                time: 1_100))
        // a's fd 1 ended; b is gone.
        let next = encoder.encode(round([("shim/a", 2_000, rendering("a", fds: ["0"], threads: 13))], time: 2_100))
        let stale = next.filter { $0.samples[0].value.bitPattern == staleMarker.bitPattern }
        let fresh = next.filter { !$0.samples[0].value.isNaN }
        #expect(fresh.count == 3)
        #expect(fresh.first { labels($0)["__name__"] == "kata_shim_threads" }?.samples[0].value == 13)
        let endedInA = stale.filter { labels($0)["sandbox_id"] == "a" }
        #expect(endedInA.map { labels($0)["fd"] } == ["1"])
        #expect(endedInA.map(\.samples[0].timestamp) == [2_000])
        let endedInB = stale.filter { labels($0)["sandbox_id"] == "b" }
        #expect(endedInB.count == 3, "every series of the removed sandbox ends")
        #expect(Set(endedInB.map(\.samples[0].timestamp)) == [2_100])
        // Once only.
        let after = encoder.encode(round([("shim/a", 3_000, rendering("a", fds: ["0"]))], time: 3_100))
        #expect(!after.contains { $0.samples[0].value.isNaN })
    }

    @Test func requestsAreSplitAndDecodeWithPythonsProtobufAndSnappy() async throws {
        var encoder = RemoteWriteEncoder(exposition: .all, externalLabels: [Label("job", "kata-pulse")])
        _ = encoder.encode(round([("shim/a", 1_000, rendering("a", fds: ["0", "1", "2"]))], time: 1_100))
        var batcher = RemoteWriteBatcher(maxSamples: 2)
        encoder.encode(round([("shim/a", 2_000, rendering("a", fds: ["0"]))], time: 2_100), into: &batcher)
        let requests = batcher.takeFull() + [batcher.takeRest()].compactMap { $0 }
        let series = try requests.flatMap(decoded)
        #expect(requests.map(\.samples) == [2, 2, 1])
        #expect(requests.allSatisfy { $0.highestTimestamp == 2_000 })

        let directory = TemporaryDirectory()
        for (index, request) in requests.enumerated() {
            #expect(
                FileManager.default.createFile(
                    atPath: "\(directory.path)/\(index).bin", contents: Data(request.payload)))
        }
        // Generated by the system's protoc from the project's .proto, decoded by the protobuf and snappy
        // libraries Debian ships for Python: an independent reading of the wire format.
        let generated = try await AgentProcess.run(
            "/usr/bin/protoc",
            ["--proto_path=\(repository)/Protos", "--python_out=\(directory.path)", "prometheus/remote.proto"])
        #expect(generated.status == 0, "\(generated.output)")
        let script = """
            import glob, json, struct, sys
            sys.path.insert(0, sys.argv[1])
            import snappy
            from prometheus import remote_pb2
            out = []
            for path in sorted(glob.glob(sys.argv[1] + "/*.bin")):
                request = remote_pb2.WriteRequest()
                request.ParseFromString(snappy.uncompress(open(path, "rb").read()))
                for series in request.timeseries:
                    for sample in series.samples:
                        out.append({"labels": [[l.name, l.value] for l in series.labels],
                                    "bits": struct.unpack("<Q", struct.pack("<d", sample.value))[0],
                                    "timestamp": sample.timestamp})
            print(json.dumps(out))
            """
        try script.write(toFile: "\(directory.path)/decode.py", atomically: true, encoding: .utf8)
        let decoded = try await AgentProcess.run("/usr/bin/python3", ["\(directory.path)/decode.py", directory.path])
        #expect(decoded.status == 0, "\(decoded.output)")
        struct Row: Decodable, Equatable {
            var labels: [[String]]
            var bits: UInt64
            var timestamp: Int64
        }
        let rows = try JSONDecoder().decode([Row].self, from: Data(decoded.output.utf8))
        let expected = series.map { one in
            Row(
                labels: one.labels.map { [$0.name, $0.value] }, bits: one.samples[0].value.bitPattern,
                timestamp: one.samples[0].timestamp)
        }
        #expect(rows == expected)
        #expect(
            rows.filter { $0.bits == 0x7ff0_0000_0000_0002 }.count == 2, "fd 1 and fd 2 end with Prometheus' marker")
        #expect(rows.allSatisfy { $0.labels.first?[0] == "__name__" && $0.labels.contains(["job", "kata-pulse"]) })
    }
}

@Suite struct RemoteWriteBatcherTests {
    @Test func escapedValuesZeroesAndLongLabelsAreWrittenAsProtobufWritesThem() throws {
        // A value with every escape and non-ASCII text, a long one (two-byte lengths), a zero sample (its field
        // left out), a timestamp past 2^35 ms (a five-byte varint).
        let odd = "q\"b\\s\nn é €" + String(repeating: "x", count: 200)
        var encoder = RemoteWriteEncoder(exposition: .all, externalLabels: [Label("zone", "z")])
        let series = encoder.encode(
            round([("shim/\(odd)", 1_796_000_000_000, rendering(odd, fds: ["0"], threads: 0))], time: 1))
        #expect(series.count == 3)
        #expect(series.allSatisfy { labels($0)["sandbox_id"] == odd && labels($0)["zone"] == "z" })
        #expect(series.first { labels($0)["__name__"] == "kata_shim_threads" }?.samples[0].value == 0)
    }

    @Test func seriesComingInPiecesAreCutIntoFullRequestsAsTheyCome() throws {
        // Four series a rendering (two fds, threads, CPU).
        let read = { (timestamp: Int64) in
            TimeSeriesBuilder.read(
                rendering("a", fds: ["0", "1"]),
                into: TimeSeriesBuilder(includes: { _ in true }, externalLabels: [], timestamp: timestamp))
        }
        var batcher = RemoteWriteBatcher(maxSamples: 3)
        batcher.add(read(5))
        #expect(batcher.takeFull().map(\.samples) == [3])
        #expect(batcher.takeFull().isEmpty, "taken once")
        batcher.add(read(7))
        let full = batcher.takeFull()
        #expect(full.map(\.samples) == [3] && full.map(\.highestTimestamp) == [7], "one of 5, two of 7")
        let rest = batcher.takeRest()
        #expect(rest?.samples == 2 && rest?.highestTimestamp == 7)
        #expect(batcher.takeRest() == nil)
        #expect(try decoded(full[0]).map { $0.samples[0].timestamp } == [5, 7, 7])
    }
}

@Suite struct RemoteWriteQueueTests {
    private func queue(_ directory: String, maxBytes: Int = 1 << 30, maxAge: Duration = .seconds(3600)) throws
        -> RemoteWriteQueue
    {
        try RemoteWriteQueue(configuration: .init(directory: directory, maxBytes: maxBytes, maxAge: maxAge))
    }

    private func payload(_ marker: UInt8, count: Int = 100) -> [UInt8] { [UInt8](repeating: marker, count: count) }

    @Test func batchesSurviveARestartInOrderAndLeaveOnlyWhenRemoved() throws {
        let directory = TemporaryDirectory().subdirectory("queue", create: false)
        let first = try queue(directory)
        for marker in UInt8(1)...3 {
            try first.append(payload: payload(marker), samples: Int(marker), highestTimestamp: Int64(marker), now: 10)
        }
        // A crash mid-write leaves a temporary file; the next start removes it.
        #expect(
            FileManager.default.createFile(
                atPath: "\(directory)/.00000000000000000009.batch.x.tmp", contents: Data([1])))
        let reopened = try queue(directory)
        #expect(reopened.size.batches == 3)
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/.00000000000000000009.batch.x.tmp"))
        let oldest = try #require(reopened.oldest(now: 20))
        #expect(oldest.payload == payload(1) && oldest.samples == 1 && oldest.highestTimestamp == 1)
        reopened.remove(oldest.sequence)
        try reopened.append(payload: payload(4), samples: 4, highestTimestamp: 4, now: 30)
        var order: [UInt8] = []
        let again = try queue(directory)
        while let batch = again.oldest(now: 40) {
            order.append(batch.payload[0])
            again.remove(batch.sequence)
        }
        #expect(order == [2, 3, 4])
        #expect(again.size.batches == 0 && again.size.bytes == 0)
    }

    @Test func aCorruptOrTruncatedBatchIsSkippedAndCounted() throws {
        let directory = TemporaryDirectory().subdirectory("queue")
        let queue = try queue(directory)
        for marker in UInt8(1)...3 {
            try queue.append(payload: payload(marker), samples: 10, highestTimestamp: 0, now: 10)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        // One flipped payload byte in the first, the second cut short.
        var corrupt = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(files[0])")))
        corrupt[corrupt.count - 1] ^= 0xFF
        try Data(corrupt).write(to: URL(fileURLWithPath: "\(directory)/\(files[0])"))
        let truncated = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(files[1])")).prefix(50)
        try truncated.write(to: URL(fileURLWithPath: "\(directory)/\(files[1])"))
        let reopened = try self.queue(directory)
        let batch = try #require(reopened.oldest(now: 20))
        #expect(batch.payload == payload(3))
        #expect(reopened.drops.samples[.corrupt] == 20 && reopened.drops.batches[.corrupt] == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == [files[2]])
    }

    @Test func aFullQueueDropsTheOldestAndAnOldBatchIsNotSent() throws {
        let file = RemoteWriteQueue.headerLength + 100
        let directory = TemporaryDirectory().subdirectory("queue")
        let queue = try queue(directory, maxBytes: 3 * file, maxAge: .seconds(60))
        for marker in UInt8(1)...5 {
            try queue.append(payload: payload(marker), samples: 7, highestTimestamp: 0, now: Int64(marker) * 1000)
        }
        #expect(queue.size.batches == 3 && queue.size.bytes == 3 * file)
        #expect(queue.drops.samples[.queueFull] == 14 && queue.drops.batches[.queueFull] == 2)
        // 61 s after the third was queued, it is too old; the fourth is not.
        let batch = try #require(queue.oldest(now: 64_000))
        #expect(batch.payload == payload(4))
        #expect(queue.drops.samples[.tooOld] == 7)
    }

    @Test func aWriteThatFailsIsCountedAndLosesNothingQueued() throws {
        let scratch = TemporaryDirectory()
        let directory = scratch.subdirectory("disk")
        // A real full disk where this may mount one (root in CI); else a queue whose folder went away.
        let mounted = mount("tmpfs", directory, "tmpfs", 0, "size=16k") == 0
        defer { if mounted { umount(directory) } }
        let queue = try queue(directory + "/queue")
        try queue.append(payload: payload(1), samples: 3, highestTimestamp: 0, now: 1)
        if !mounted { TemporaryDirectory.removeTree(directory + "/queue") }
        #expect(throws: TextfileError.self) {
            try queue.append(payload: payload(2, count: 64 * 1024), samples: 5, highestTimestamp: 0, now: 2)
        }
        #expect(queue.drops.samples[.writeFailed] == 5)
        if mounted {
            #expect(queue.oldest(now: 3)?.payload == payload(1))
            // No temporary file is left to fill the disk.
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/queue").count == 1)
        }
    }

    @Test func concurrentAppendsAllLandWithDistinctSequences() async throws {
        let directory = TemporaryDirectory().subdirectory("queue")
        let queue = try queue(directory)
        await withTaskGroup(of: Void.self) { group in
            for writer in UInt8(0)..<4 {
                group.addTask {
                    for index in UInt8(0)..<25 {
                        try? queue.append(payload: [writer, index], samples: 1, highestTimestamp: 0, now: 1)
                    }
                }
            }
        }
        var seen = Set<[UInt8]>()
        var sequences: [UInt64] = []
        while let batch = queue.oldest(now: 2) {
            seen.insert(batch.payload)
            sequences.append(batch.sequence)
            queue.remove(batch.sequence)
        }
        #expect(seen.count == 100 && sequences == sequences.sorted() && Set(sequences).count == 100)
    }
}

@Suite struct RemoteWriteDeliveryTests {
    private func response(_ status: Int, _ headers: [(String, String)] = []) -> HTTPExchangeResponse {
        HTTPExchangeResponse(status: status, headers: headers.map { (name: $0.0, value: $0.1) }, body: Array("no".utf8))
    }

    @Test func statusesDecideBetweenAcceptRetryAndDrop() {
        #expect(RemoteWriteSender.outcome(of: response(204), now: 0) == .accepted)
        #expect(RemoteWriteSender.outcome(of: response(200), now: 0) == .accepted)
        guard case .rejected(400, _) = RemoteWriteSender.outcome(of: response(400), now: 0) else {
            Issue.record("400 is not dropped")
            return
        }
        guard case .retry(_, _, nil) = RemoteWriteSender.outcome(of: response(503), now: 0) else {
            Issue.record("503 is not retried")
            return
        }
        guard
            case .retry(_, _, .seconds(7)) = RemoteWriteSender.outcome(
                of: response(429, [("Retry-After", "7")]), now: 0)
        else {
            Issue.record("429's Retry-After is not honoured")
            return
        }
        // An HTTP date 90 s after now.
        let now = 784_111_777.0
        guard
            case .retry(_, _, .seconds(90)) = RemoteWriteSender.outcome(
                of: response(503, [("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")]), now: now - 90)
        else {
            Issue.record("an HTTP-date Retry-After is not honoured")
            return
        }
        #expect(RemoteWriteSender.retryAfter("soon", now: 0) == nil)
    }

    @Test func receiverURLs() {
        #expect(RemoteWriteURL(parsing: "http://vm:8428/api/v1/write")?.target == "/api/v1/write")
        #expect(RemoteWriteURL(parsing: "http://[::1]/w?extra_label=a=b")?.target == "/w?extra_label=a=b")
        #expect(RemoteWriteURL(parsing: "http://vm?x=1")?.target == "/?x=1")
        #expect(RemoteWriteURL(parsing: "http://vm")?.port == 80)
        #expect(RemoteWriteURL(parsing: "https://vm")?.port == 443)
        #expect(RemoteWriteURL(parsing: "https://vm:8443/w")?.description == "https://vm:8443/w")
        #expect(RemoteWriteURL(parsing: "ftp://vm") == nil)
        #expect(
            RemoteWriteURL(parsing: "https://vm/w")!.queueFolderName
                != RemoteWriteURL(parsing: "http://vm/w")!.queueFolderName)
        #expect(RemoteWriteURL(parsing: "http://:80/") == nil)
        let a = RemoteWriteURL(parsing: "http://a:1/w")!.queueFolderName
        #expect(a != RemoteWriteURL(parsing: "http://a:1/w/")!.queueFolderName && !a.contains("/"))
    }
}

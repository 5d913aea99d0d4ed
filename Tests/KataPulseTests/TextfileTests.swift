import Testing

@testable import KataPulse
@testable import KataPulseSimulator

#if canImport(Glibc)
    import Glibc
#endif

private func read(_ path: String) -> [UInt8]? {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { break }
        out += buffer[0..<count]
    }
    return out
}

@Suite struct TextfileWriterTests {
    @Test func writesTheWholeFileAndLeavesNoTemporaries() throws {
        let tmp = TemporaryDirectory()
        let writer = TextfileWriter(directory: tmp.path, name: "kata-pulse.prom")
        let body = Array("# TYPE a gauge\na 1\n".utf8)
        try writer.write(body)
        #expect(read(writer.path) == body)
        try writer.write(Array("# TYPE a gauge\na 2\n".utf8))
        #expect(read(writer.path) == Array("# TYPE a gauge\na 2\n".utf8))
        #expect(DirectoryEntries.entries(tmp.path) == ["kata-pulse.prom"])
        var info = stat()
        stat(writer.path, &info)
        #expect(info.st_mode & 0o777 == 0o644)
    }

    @Test func missingDirectoryFailsAndCreatesNothing() throws {
        let tmp = TemporaryDirectory()
        let writer = TextfileWriter(directory: "\(tmp.path)/absent", name: "kata-pulse.prom")
        #expect {
            try writer.write([1, 2, 3])
        } throws: { error in
            (error as? TextfileError)?.step == "create" && (error as? TextfileError)?.errno == ENOENT
        }
        #expect(DirectoryEntries.entries(tmp.path) == [])
    }

    @Test func unwritableLocationFailsAndKeepsNothingHalfWritten() throws {
        // /proc refuses new files even to root: the closest to a read-only directory without a mount.
        let writer = TextfileWriter(directory: "/proc/self", name: "kata-pulse.prom")
        #expect(throws: TextfileError.self) { try writer.write([1]) }
    }

    @Test func aCrashBetweenWriteAndRenameLeavesTheOldFileWhole() throws {
        let tmp = TemporaryDirectory()
        let writer = TextfileWriter(directory: tmp.path, name: "kata-pulse.prom")
        let old = Array("# TYPE a gauge\na 1\n".utf8)
        try writer.write(old)
        // What a writer killed before its rename leaves: a partial temporary file beside the old one.
        let partial = "\(tmp.path)/.kata-pulse.prom.crashed.tmp"
        let descriptor = open(partial, O_WRONLY | O_CREAT, 0o644)
        _ = "# TYPE a gau".withCString { Glibc.write(descriptor, $0, 12) }
        close(descriptor)
        #expect(read(writer.path) == old)
        #expect(!partial.hasSuffix(".prom"))  // node_exporter reads only *.prom, hidden ones included
        #expect(writer.removeStaleTemporaries() == 1)
        #expect(DirectoryEntries.entries(tmp.path) == ["kata-pulse.prom"])
    }

    @Test func concurrentRoundsNeverExposeAPartialFile() async throws {
        let tmp = TemporaryDirectory()
        let writer = TextfileWriter(directory: tmp.path, name: "kata-pulse.prom")
        let bodies = (0..<6).map { index in
            Array(("# TYPE a gauge\n" + String(repeating: "a{i=\"\(index)\"} \(index)\n", count: 2_000)).utf8)
        }
        try writer.write(bodies[0])
        let valid = Set(bodies)
        let sawPartial = await withTaskGroup(of: Bool.self) { group in
            for body in bodies {
                group.addTask {
                    for _ in 0..<15 { try? writer.write(body) }
                    return false
                }
            }
            group.addTask {
                for _ in 0..<300 {
                    if let contents = read(writer.path), !valid.contains(contents) { return true }
                }
                return false
            }
            var partial = false
            for await result in group { partial = partial || result }
            return partial
        }
        #expect(!sawPartial)
        #expect(DirectoryEntries.entries(tmp.path) == ["kata-pulse.prom"])
    }
}

@Suite struct ExportBodyTests {
    @Test func leavesOutScrapeFamiliesAndSelectsSeries() throws {
        var record = SandboxRecord(id: "sb")
        let families = try ExpositionParser().parse(
            SimulatedShimBody(sandboxID: "sb", flavor: .go, seed: 1).render(elapsed: 100))
        var published = Relabeler.relabel(families, with: SandboxLabels(sandboxID: "sb")).families
        published += CadvisorMapper.map(
            families, identity: CadvisorIdentity(sandboxID: "sb"), disks: try DiskFilter(), now: 1)
        published.sort { $0.name < $1.name }
        record.rendered = RenderedSandbox(id: "sb", families: published)
        record.lastAttempt = 1
        let snapshot = SnapshotBuilder().build(sandboxes: [record], statistics: CollectionStatistics(), now: 1)

        for exposition in [ExpositionSet.all, .kata, .cadvisor] {
            let body = ExportBody.render(snapshot, exposition: exposition)
            let names = Set(try ExpositionParser().parse(body).map(\.name))
            #expect(names.contains("kata_monitor_running_shim_count"))
            #expect(names.contains("kata_pulse_sandbox_up"))
            #expect(!names.contains("kata_monitor_scrape_count"))
            #expect(!names.contains("kata_monitor_scrape_failed_count"))
            #expect(names.contains("kata_guest_meminfo") == exposition.contains(.kata))
            #expect(names.contains("container_memory_working_set_bytes") == exposition.contains(.cadvisor))
        }
    }
}

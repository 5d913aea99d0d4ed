import Testing

@testable import KataPulse

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a registry on the given roots and records every change it publishes.
private final class RegistryHarness: Sendable {
    let registry: SandboxRegistry
    private let task: Task<Void, any Error>
    private let latest = LatestChange()

    init(roots: [String]) {
        var configuration = SandboxRegistry.Configuration(roots: roots)
        configuration.rescanInterval = .seconds(60)
        configuration.rootRetryInterval = .milliseconds(50)
        registry = SandboxRegistry(configuration: configuration, logger: testLogger)
        let registry = self.registry
        let latest = self.latest
        task = Task {
            async let consume: Void = {
                for await change in registry.changes { await latest.set(change.current) }
            }()
            try await registry.run()
            await consume
        }
    }

    func current() async -> [String]? { await latest.value }

    func waitFor(_ expected: [String]) async -> Bool {
        await eventually { await self.current() == expected }
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

private actor LatestChange {
    var value: [String]?
    func set(_ value: [String]) { self.value = value }
}

@Suite struct DiscoveryTests {
    @Test func findsExistingDirectoriesAndIgnoresFilesAndInvalidNames() async throws {
        let tmp = TemporaryDirectory()
        let root = tmp.subdirectory("sbs")
        mkdir("\(root)/aaa", 0o755)
        mkdir("\(root)/.hidden", 0o755)
        mkdir("\(root)/bad name", 0o755)
        close(open("\(root)/not-a-sandbox-file", O_CREAT | O_WRONLY, 0o644))
        symlink("\(root)/aaa", "\(root)/link-to-aaa")
        let harness = RegistryHarness(roots: [root])
        #expect(await harness.waitFor(["aaa"]))
        await harness.stop()
    }

    @Test func createAndRemoveAreSeenWithoutRescan() async throws {
        let tmp = TemporaryDirectory()
        let root = tmp.subdirectory("sbs")
        let harness = RegistryHarness(roots: [root])
        #expect(await harness.waitFor([]))
        mkdir("\(root)/sb1", 0o755)
        mkdir("\(root)/sb2", 0o755)
        #expect(await harness.waitFor(["sb1", "sb2"]))
        rmdir("\(root)/sb1")
        #expect(await harness.waitFor(["sb2"]))
        rename("\(root)/sb2", "\(tmp.path)/moved-away")
        #expect(await harness.waitFor([]))
        close(open("\(root)/file", O_CREAT | O_WRONLY, 0o644))
        mkdir("\(root)/sb3", 0o755)
        #expect(await harness.waitFor(["sb3"]))
        await harness.stop()
    }

    @Test func rootThatAppearsLaterIsPickedUp() async throws {
        let tmp = TemporaryDirectory()
        let root = tmp.subdirectory("later", create: false)
        let harness = RegistryHarness(roots: [root])
        #expect(await harness.waitFor([]))
        mkdir(root, 0o755)
        mkdir("\(root)/late-sandbox", 0o755)
        #expect(await harness.waitFor(["late-sandbox"]))
        mkdir("\(root)/another", 0o755)
        #expect(await harness.waitFor(["another", "late-sandbox"]))
        await harness.stop()
    }

    @Test func rootRemovedAndRecreatedIsWatchedAgain() async throws {
        let tmp = TemporaryDirectory()
        let root = tmp.subdirectory("sbs")
        mkdir("\(root)/one", 0o755)
        let harness = RegistryHarness(roots: [root])
        #expect(await harness.waitFor(["one"]))
        rmdir("\(root)/one")
        rmdir(root)
        #expect(await harness.waitFor([]))
        mkdir(root, 0o755)
        mkdir("\(root)/two", 0o755)
        #expect(await harness.waitFor(["two"]))
        await harness.stop()
    }

    @Test func sameIDUnderTwoRootsIsOneSandboxUntilGoneFromBoth() async throws {
        let tmp = TemporaryDirectory()
        let go = tmp.subdirectory("vc")
        let rust = tmp.subdirectory("kata")
        mkdir("\(go)/shared", 0o755)
        mkdir("\(rust)/shared", 0o755)
        mkdir("\(rust)/rust-only", 0o755)
        let harness = RegistryHarness(roots: [go, rust])
        #expect(await harness.waitFor(["rust-only", "shared"]))
        rmdir("\(go)/shared")
        try await Task.sleep(for: .milliseconds(200))
        #expect(await harness.current() == ["rust-only", "shared"])
        rmdir("\(rust)/shared")
        #expect(await harness.waitFor(["rust-only"]))
        await harness.stop()
    }

    @Test func sandboxIDValidation() {
        #expect(SandboxID.isValid("6fcf0a90b01e90d8747177aa466c3462d02e02a878bc393649df83d4c314af0c"))
        #expect(SandboxID.isValid("a.b_c-d"))
        #expect(!SandboxID.isValid(""))
        #expect(!SandboxID.isValid(".."))
        #expect(!SandboxID.isValid("-x"))
        #expect(!SandboxID.isValid("a/b"))
        #expect(SandboxID.isValid(String(repeating: "a", count: 128)))
        #expect(!SandboxID.isValid(String(repeating: "a", count: 129)))
    }
}

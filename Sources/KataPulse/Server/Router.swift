import NIOCore

/// Answers the HTTP API from the current snapshot; only `/agent-url` talks to a shim.
public struct Router: Sendable {
    let store: SnapshotStore
    let counters: ScrapeCounters
    let client: ShimClient
    let locator: ShimSocketLocator

    /// Present when CRI is enabled: `/sandboxes` then says which sandboxes still wait for metadata.
    let criHealth: CRIHealth?
    /// Decides `/healthz`: 503 while collection is wedged; nil answers 200 whenever the server answers.
    let liveness: LivenessCheck?
    /// The agent's own `kata_monitor_process_*` families, read when `/metrics` is asked.
    let process: ProcessMetrics

    init(
        store: SnapshotStore, counters: ScrapeCounters, client: ShimClient, locator: ShimSocketLocator,
        criHealth: CRIHealth? = nil, liveness: LivenessCheck? = nil, process: ProcessMetrics = ProcessMetrics()
    ) {
        self.process = process
        self.criHealth = criHealth
        self.liveness = liveness
        self.store = store
        self.counters = counters
        self.client = client
        self.locator = locator
    }

    static let endpoints: [(path: String, description: String)] = [
        ("/metrics", "Get metrics from sandboxes."),
        ("/sandboxes", "List all Kata Containers sandboxes."),
        ("/agent-url", "Get sandbox agent URL."),
        ("/healthz", "Liveness: 200 while collection makes progress, 503 when it is wedged."),
    ]

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        guard request.method == "GET" || request.method == "HEAD" else {
            return .text(
                405, "method \(request.method) not allowed; use GET or HEAD\n", headers: [("Allow", "GET, HEAD")])
        }
        switch request.path {
        case "/": return index(request)
        case "/metrics": return metrics(request)
        case "/sandboxes": return sandboxes(request)
        case "/agent-url": return await agentURL(request)
        case "/healthz": return await health()
        default: return .text(404, "not found: \(request.path); see / for the endpoints\n")
        }
    }

    /// Liveness for probes: what the systemd watchdog checks, so Kubernetes restarts a wedged agent too.
    func health() async -> HTTPResponse {
        if let problem = await liveness?.problem() { return .text(503, "unhealthy: \(problem)\n") }
        return .text(200, "ok\n")
    }

    func index(_ request: HTTPRequest) -> HTTPResponse {
        if request.accepts("text/html") {
            var html = "<h1>Available HTTP endpoints:</h1>\n<ul>"
            for (path, description) in Self.endpoints {
                let link = path == "/metrics" || path == "/sandboxes" ? "<a href='\(path)'>\(path)</a>" : path
                html += "<li><b>\(link)</b>: \(description)\n</li>"
            }
            html += "</ul>\n"
            return HTTPResponse(
                status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: [ByteBuffer(string: html)])
        }
        let width = (Self.endpoints.map(\.path.count).max() ?? 0) + 3
        var text = "Available HTTP endpoints:\n"
        for (path, description) in Self.endpoints {
            text += path + String(repeating: " ", count: width - path.count) + ": " + description + "\n"
        }
        return .text(200, text)
    }

    func metrics(_ request: HTTPRequest) -> HTTPResponse {
        let scrapeCount = counters.countScrape()
        let snapshot = store.snapshot
        var response = metricsBody(request, snapshot: snapshot, scrapeCount: scrapeCount)
        if response.status >= 400 { counters.countFailure() }
        response.headers.append(("Vary", "Accept-Encoding"))
        return response
    }

    private func metricsBody(_ request: HTTPRequest, snapshot: Snapshot, scrapeCount: Int) -> HTTPResponse {
        let contentType = ("Content-Type", ExpositionRenderer.contentType)
        if let id = request.queryValue("sandbox"), !id.isEmpty {
            guard SandboxID.isValid(id) else { return .text(400, "invalid sandbox id\n") }
            guard let record = snapshot.sandbox(id) else { return .text(404, "sandbox \(id) not found\n") }
            guard let rendered = record.rendered else {
                return .text(503, "no metrics collected yet for sandbox \(id): \(record.lastError ?? "pending")\n")
            }
            return encoded([rendered.buffer], request: request, contentType: contentType)
        }
        let prefixFamilies =
            OwnMetrics.requestFamilies(
                runningShimCount: snapshot.runningShimCount, scrapeCount: scrapeCount,
                scrapeFailedCount: counters.failedCount) + process.families
        if let filter = request.queryValue("filter_family"), !filter.isEmpty {
            let prefixes = filter.split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
            let wanted: (String) -> Bool = { name in prefixes.contains { name.hasPrefix($0) } }
            var parts = [ByteBuffer(bytes: ExpositionRenderer.render(prefixFamilies.filter { wanted($0.name) }))]
            for span in snapshot.families where wanted(span.name) { parts += snapshot.parts[span.parts] }
            return encoded(parts, request: request, contentType: contentType)
        }
        let prefix = ExpositionRenderer.render(prefixFamilies)
        if request.acceptsGzip {
            // One gzip member: header, this request's few lines, the body compressed once per round, trailer.
            return HTTPResponse(
                status: 200, headers: [contentType, ("Content-Encoding", "gzip")],
                body: Gzip.memberParts([DeflateSegment.stored(prefix), snapshot.deflatedBody]))
        }
        return HTTPResponse(
            status: 200, headers: [contentType], body: [ByteBuffer(bytes: prefix), snapshot.plainBody])
    }

    /// `parts` as they are, or compressed in one gzip member when the client accepts it.
    private func encoded(_ parts: [ByteBuffer], request: HTTPRequest, contentType: (String, String)) -> HTTPResponse {
        if request.acceptsGzip {
            return HTTPResponse(
                status: 200, headers: [contentType, ("Content-Encoding", "gzip")],
                body: Gzip.memberParts([DeflateSegment(compressing: parts, isFinal: true)]))
        }
        return HTTPResponse(status: 200, headers: [contentType], body: parts)
    }

    func sandboxes(_ request: HTTPRequest) -> HTTPResponse {
        let records = store.snapshot.sandboxes
        if request.queryValue("format") == "json" || request.accepts("application/json") {
            return HTTPResponse(
                status: 200, headers: [("Content-Type", "application/json")],
                body: [ByteBuffer(string: SandboxJSON.render(records, criEnabled: criHealth != nil))])
        }
        if request.accepts("text/html") {
            var html = "<h1>Sandbox list</h1>\n<ul>\n"
            for record in records {
                let id = HTML.escape(record.id)
                html +=
                    "<li>\(id): <a href='/metrics?sandbox=\(id)'>metrics</a>, <a href='/agent-url?sandbox=\(id)'>agent-url</a>"
                    + " (\(record.isUp ? "up" : record.lastAttempt == nil ? "pending" : "failing"))</li>\n"
            }
            html += "</ul>\n"
            return HTTPResponse(
                status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: [ByteBuffer(string: html)])
        }
        return .text(200, records.map { $0.id + "\n" }.joined())
    }

    func agentURL(_ request: HTTPRequest) async -> HTTPResponse {
        guard let id = request.queryValue("sandbox"), !id.isEmpty else {
            return .text(400, "missing sandbox parameter\n")
        }
        guard SandboxID.isValid(id) else { return .text(400, "invalid sandbox id\n") }
        guard store.snapshot.sandbox(id) != nil else { return .text(404, "sandbox \(id) not found\n") }
        guard let socket = locator.locate(sandboxID: id) else {
            return .text(502, "no shim socket for sandbox \(id)\n")
        }
        do {
            return .text(200, try await client.agentURL(socketPath: socket) + "\n")
        } catch {
            return .text(502, "shim of sandbox \(id) failed: \(error)\n")
        }
    }
}

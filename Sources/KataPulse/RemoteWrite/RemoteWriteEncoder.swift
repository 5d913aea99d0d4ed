import NIOCore

/// One round's series sources, taken from a snapshot without copying a rendering.
struct RemoteWriteRound: Sendable {
    /// A rendering and the time its series were read.
    struct Source: Sendable {
        /// `shim/<id>`, `containers/<id>` or `agent`: stable across rounds, so that the next round's rendering
        /// of the same source can be compared with this one.
        var key: String
        /// Milliseconds since the epoch.
        var timestamp: Int64
        var rendering: ByteBuffer
    }

    var sources: [Source]
    /// When the snapshot was built (milliseconds): the agent's own series' timestamp, and the staleness markers'
    /// of sources that are gone.
    var time: Int64

    /// Each sandbox's shim rendering at the time its shim was read, its container rows and the agent's own
    /// families (those an export takes, ``ExportBody``) at the snapshot's time.
    init(_ snapshot: Snapshot) {
        let time = UnixTime.milliseconds(snapshot.builtAt)
        var sources: [Source] = []
        sources.reserveCapacity(snapshot.sandboxes.count + 1)
        for record in snapshot.sandboxes {
            if let rendered = record.rendered, let read = record.lastSuccess {
                sources.append(
                    Source(key: "shim/" + record.id, timestamp: UnixTime.milliseconds(read), rendering: rendered.buffer)
                )
            }
            if let containers = record.containers {
                sources.append(Source(key: "containers/" + record.id, timestamp: time, rendering: containers.buffer))
            }
        }
        // The agent's own families as every export takes them: with no collection series, only those.
        let own = ByteBuffer(bytes: ExportBody.render(snapshot, exposition: []))
        sources.append(Source(key: "agent", timestamp: time, rendering: own))
        self.sources = sources
        self.time = time
    }
}

/// Turns rounds into remote-write series: every source read since the last round, each sample at the time its
/// source was read, and a staleness marker, once, for every series that ended (gone from its source's newer
/// rendering, or its sandbox gone).
///
/// A source whose time has not moved (a sandbox whose shim failed this round keeps its last rendering) is not
/// sent again: the store has those samples. The previous rendering of each source is kept to name the series
/// that end; it is the one the snapshot holds, so it costs nothing at rest.
struct RemoteWriteEncoder {
    /// Which families are sent (``ExportBody/includes(_:_:)``).
    let exposition: ExpositionSet
    /// Sorted by name.
    let externalLabels: [Label]

    private struct Sent {
        var timestamp: Int64
        var rendering: ByteBuffer
        var identities: Set<Int>
    }

    private var sent: [String: Sent] = [:]

    init(exposition: ExpositionSet, externalLabels: [Label]) {
        self.exposition = exposition
        self.externalLabels = externalLabels.sorted { $0.name < $1.name }
    }

    /// Adds to `batcher` the series of `round` that the store has not had yet, and the markers of those that
    /// ended, a source at a time; `afterEachSource` can take the requests completed so far, so that a round's
    /// series need not all be held at once.
    mutating func encode(
        _ round: RemoteWriteRound, into batcher: inout RemoteWriteBatcher,
        afterEachSource: (inout RemoteWriteBatcher) -> Void = { _ in }
    ) {
        var present = Set<String>()
        for source in round.sources {
            present.insert(source.key)
            let previous = sent[source.key]
            if let previous, previous.timestamp >= source.timestamp { continue }
            let read = TimeSeriesBuilder.read(source.rendering, into: builder(at: source.timestamp))
            batcher.add(read)
            if let previous {
                let ended = previous.identities.subtracting(read.identities)
                if !ended.isEmpty {
                    batcher.add(
                        TimeSeriesBuilder.read(previous.rendering, into: builder(at: source.timestamp, ending: ended)))
                }
            }
            sent[source.key] = Sent(
                timestamp: source.timestamp, rendering: source.rendering, identities: read.identities)
            afterEachSource(&batcher)
        }
        for (key, previous) in sent where !present.contains(key) {
            // After the last sample, or the store takes the marker for a second value at the same time.
            let time = max(round.time, previous.timestamp + 1)
            batcher.add(
                TimeSeriesBuilder.read(previous.rendering, into: builder(at: time, ending: previous.identities)))
            sent[key] = nil
            afterEachSource(&batcher)
        }
    }

    private func builder(at timestamp: Int64, ending: Set<Int>? = nil) -> TimeSeriesBuilder {
        let exposition = self.exposition
        return TimeSeriesBuilder(
            includes: { ExportBody.includes($0, exposition) }, externalLabels: externalLabels, timestamp: timestamp,
            ending: ending)
    }

}

/// One write request: a snappy-compressed `WriteRequest`, with its sample count and newest timestamp.
struct RemoteWriteRequest {
    var payload: [UInt8]
    var samples: Int
    var highestTimestamp: Int64
}

/// Gathers encoded series, as they come, into requests of at most `maxSamples` samples (one each), holding only
/// the unfinished one uncompressed.
struct RemoteWriteBatcher {
    let maxSamples: Int
    /// `WriteRequest.timeseries` entries back to back: a `WriteRequest` as it is.
    private var pending: [UInt8] = []
    private var pendingSamples = 0
    private var pendingHighest = Int64.min
    private var full: [RemoteWriteRequest] = []

    init(maxSamples: Int) { self.maxSamples = max(1, maxSamples) }

    /// The series a builder read.
    mutating func add(_ read: TimeSeriesBuilder) {
        var start = 0
        var index = 0
        while index < read.ends.count {
            let last = min(read.ends.count, index + maxSamples - pendingSamples)
            pending.append(contentsOf: read.encoded[start..<read.ends[last - 1]])
            pendingSamples += last - index
            pendingHighest = max(pendingHighest, read.timestamp)
            start = read.ends[last - 1]
            index = last
            if pendingSamples == maxSamples { full.append(cut()) }
        }
    }

    /// The requests completed since the last call.
    mutating func takeFull() -> [RemoteWriteRequest] {
        defer { full.removeAll() }
        return full
    }

    /// The unfinished request, as it is; nil when there is none.
    mutating func takeRest() -> RemoteWriteRequest? {
        pendingSamples == 0 ? nil : cut()
    }

    private mutating func cut() -> RemoteWriteRequest {
        defer {
            pending.removeAll(keepingCapacity: true)
            pendingSamples = 0
            pendingHighest = .min
        }
        return RemoteWriteRequest(
            payload: Snappy.compress(pending), samples: pendingSamples, highestTimestamp: pendingHighest)
    }
}

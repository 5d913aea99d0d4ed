extension RenderedSandbox {
    /// This sandbox's series under other pod metadata, without asking its shim again.
    ///
    /// Used when CRI metadata changes after the sandbox was collected, so that the next snapshot shows every
    /// series of the sandbox under the new labels at once, never some under the old and some under the new.
    /// The body is the agent's own rendering, so it parses back to the same families; the kata families'
    /// `sandbox_id`/`cri_*` values and the cAdvisor rows' `namespace`/`pod` are replaced, and
    /// `container_start_time_seconds` follows the new creation time.
    func relabelled(to newLabels: SandboxLabels, startTime: Double?) -> RenderedSandbox {
        guard var families = try? ExpositionParser(limits: .unbounded).parse(buffer) else { return self }
        let kataValues = Dictionary(uniqueKeysWithValues: zip(SandboxLabels.names, newLabels.labels.map(\.value)))
        let cadvisorValues = ["namespace": newLabels.criNamespace, "pod": newLabels.criName]
        for index in families.indices {
            let values = families[index].name.hasPrefix("container_") ? cadvisorValues : kataValues
            for sampleIndex in families[index].samples.indices {
                for labelIndex in families[index].samples[sampleIndex].labels.indices {
                    let name = families[index].samples[sampleIndex].labels[labelIndex].name
                    if let value = values[name] {
                        families[index].samples[sampleIndex].labels[labelIndex].value = value
                    }
                }
            }
        }
        families.removeAll { $0.name == CadvisorCatalog.startTime.name }
        if let startTime, let seen = families.first(where: { $0.name == CadvisorCatalog.lastSeen.name }),
            let identity = seen.samples.first?.labels
        {
            let family = CadvisorCatalog.startTime
            families.append(
                MetricFamily(
                    name: family.name, help: family.help, type: family.type,
                    samples: [Sample(name: family.name, labels: identity, value: startTime)]))
            families.sort { $0.name < $1.name }
        }
        return RenderedSandbox(id: id, families: families, labels: newLabels)
    }

}

extension ExpositionLimits {
    /// No bounds: for re-reading the agent's own renderings, which were bounded when they were collected.
    static let unbounded = ExpositionLimits(
        maxSeries: .max, maxLabelsPerSeries: .max, maxLabelValueLength: .max, maxNameLength: .max)
}

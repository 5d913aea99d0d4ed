import CYAML

/// A YAML document as a tree of scalars, sequences and mappings, each with the line it starts on; parsed by
/// the system's libyaml. Aliases are expanded, within a node budget, so a small hostile file (an alias bomb or
/// a cycle) is an error and never a hang or a crash.
struct YAMLNode: Sendable {
    /// What a node holds.
    enum Content: Sendable {
        /// A scalar's text and whether it was written plain (unquoted; only plain scalars are null or bool).
        case scalar(String, plain: Bool)
        case sequence([YAMLNode])
        case mapping([(key: YAMLNode, value: YAMLNode)])
    }

    var content: Content
    /// 1-based line of the node's first character.
    var line: Int

    /// Most nodes one document may expand to, aliases included; a web configuration has a few dozen.
    static let nodeBudget = 10_000
    /// Deepest nesting accepted.
    static let maxDepth = 64

    /// The first document of `bytes`, or nil when there is none (an empty file, or only comments).
    static func parse(_ bytes: [UInt8]) throws(YAMLError) -> YAMLNode? {
        guard !bytes.isEmpty else { return nil }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw YAMLError(line: 0, message: "out of memory") }
        defer { yaml_parser_delete(&parser) }
        var document = yaml_document_t()
        let loaded = bytes.withUnsafeBufferPointer { buffer -> Int32 in
            // libyaml reads the input while loading; it keeps no pointer to it afterwards.
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            return yaml_parser_load(&parser, &document)
        }
        guard loaded == 1 else {
            let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
            let context = parser.context.map { String(cString: $0) + ": " } ?? ""
            throw YAMLError(line: Int(parser.problem_mark.line) + 1, message: context + problem)
        }
        defer { yaml_document_delete(&document) }
        guard let root = yaml_document_get_root_node(&document) else { return nil }
        var budget = nodeBudget
        return try convert(root, in: &document, depth: 0, budget: &budget)
    }

    private static func convert(
        _ node: UnsafeMutablePointer<yaml_node_t>, in document: inout yaml_document_t, depth: Int, budget: inout Int
    ) throws(YAMLError) -> YAMLNode {
        let line = Int(node.pointee.start_mark.line) + 1
        budget -= 1
        guard budget >= 0 else {
            throw YAMLError(line: line, message: "document expands to more than \(nodeBudget) nodes (aliases?)")
        }
        guard depth < maxDepth else { throw YAMLError(line: line, message: "nested deeper than \(maxDepth) levels") }
        switch node.pointee.type {
        case YAML_SCALAR_NODE:
            let scalar = node.pointee.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            return YAMLNode(content: .scalar(text, plain: scalar.style == YAML_PLAIN_SCALAR_STYLE), line: line)
        case YAML_SEQUENCE_NODE:
            var items: [YAMLNode] = []
            var item = node.pointee.data.sequence.items.start
            while let current = item, current != node.pointee.data.sequence.items.top {
                items.append(try child(current.pointee, in: &document, depth: depth, budget: &budget, line: line))
                item = current + 1
            }
            return YAMLNode(content: .sequence(items), line: line)
        case YAML_MAPPING_NODE:
            var pairs: [(key: YAMLNode, value: YAMLNode)] = []
            var pair = node.pointee.data.mapping.pairs.start
            while let current = pair, current != node.pointee.data.mapping.pairs.top {
                let key = try child(current.pointee.key, in: &document, depth: depth, budget: &budget, line: line)
                let value = try child(current.pointee.value, in: &document, depth: depth, budget: &budget, line: line)
                pairs.append((key, value))
                pair = current + 1
            }
            return YAMLNode(content: .mapping(pairs), line: line)
        default:
            return YAMLNode(content: .scalar("", plain: true), line: line)
        }
    }

    private static func child(
        _ index: Int32, in document: inout yaml_document_t, depth: Int, budget: inout Int, line: Int
    ) throws(YAMLError) -> YAMLNode {
        guard let node = yaml_document_get_node(&document, index) else {
            throw YAMLError(line: line, message: "dangling node reference")
        }
        return try convert(node, in: &document, depth: depth + 1, budget: &budget)
    }

    /// Whether this is YAML's null: an empty or `~`/`null` plain scalar.
    var isNull: Bool {
        if case .scalar(let text, true) = content { return ["", "~", "null", "Null", "NULL"].contains(text) }
        return false
    }

    /// What the node is, as an error message names it.
    var kindName: String {
        switch content {
        case .scalar: "a scalar"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }
}

/// A YAML syntax error (or a document too large to expand), with its 1-based line.
struct YAMLError: Error, Sendable, Equatable {
    var line: Int
    var message: String
}

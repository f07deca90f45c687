// MakeTarget: builds BYOL's target network from the online one, as a rewrite.
//
// BYOL is declared once, with the online network only: its loss compares the online
// prediction of one view with `stop_gradient(online projection of the other view)`. This pass
// turns each such stop-gradient into a target branch. It clones the subgraph under the
// stop-gradient that reads `online.*` params, with every `online.X` param or state replaced by
// a `target.X` state; the clone keeps the stop-gradient on its output, so no gradient can
// reach the target. Target BatchNorm runs in training mode like the online one, and its
// running statistics get their own assigns, cloned from the online updates of the modules the
// target has (not the predictor's). Target weights are initialised independently: the same
// initializer as their online counterpart, drawn from the stream of the target's name.
//
// Without this pass the same graph is BYOL's τ = 0 ablation: the target is a stop-gradient
// copy of the online network.

import GraftIR

/// Replaces the stop-gradient copies of the online network with a separate target network.
public struct MakeTarget: Pass, Sendable {
    public let name = "make-target"
    /// The prefix of the online network's variables and the prefix the clone gets.
    public var onlinePrefix = "online."
    public var targetPrefix = "target."

    public init() {}

    public func run(_ graph: inout Graph) throws {
        if let existing = graph.nodes.first(where: { $0.op.declaredName?.hasPrefix(targetPrefix) == true }) {
            let name = existing.op.declaredName!
            let what = graph.variables[name]?.targetOf.map { "a target network (@\(name) is the target of @\($0))" } ?? "\(existing.op.name) @\(name)"
            throw Diagnostic("make-target: the graph already has \(what), where make-target would declare its '\(targetPrefix)*' state; make-target runs once", at: existing.location)
        }
        let forwardCount = graph.nodes.count
        // Values that read an online variable.
        var readsOnline = [Bool](repeating: false, count: forwardCount)
        for (id, node) in graph.nodes.enumerated() {
            if let name = node.op.declaredName, name.hasPrefix(onlinePrefix), node.op != .input(name) {
                readsOnline[id] = true
            } else {
                readsOnline[id] = node.operands.contains { readsOnline[$0] }
            }
        }
        let markers = graph.nodes.indices.filter { graph[$0].op == .stopGradient && readsOnline[graph[$0].operands[0]] }
        guard !markers.isEmpty else {
            throw Diagnostic("make-target: no stop_gradient of a value computed from '\(onlinePrefix)*' params; declare BYOL's target as stopGradient(online projection)")
        }

        // The online params the target branch reads: its modules.
        var reached = Set<ValueID>()
        var work = markers.map { graph[$0].operands[0] }
        var seen = Set<ValueID>()
        while let value = work.popLast() {
            guard seen.insert(value).inserted, readsOnline[value] else { continue }
            if graph[value].op.declaredName != nil { reached.insert(value) }
            work.append(contentsOf: graph[value].operands)
        }

        var clones: [ValueID: ValueID] = [:]
        func clone(_ value: ValueID) -> ValueID {
            if let done = clones[value] { return done }
            guard readsOnline[value] else { return value }
            var stack = [value]
            while let top = stack.last {
                if clones[top] != nil { stack.removeLast(); continue }
                let node = graph[top]
                if let name = node.op.declaredName {
                    let targetName = targetPrefix + name.dropFirst(onlinePrefix.count)
                    var info = graph.variables[name]!
                    info.targetOf = name
                    info.gradient = nil   // a target has no gradient, also when autodiff ran first
                    let id = graph.declare(.state(targetName), type: node.type, info: info, at: node.location)
                    clones[top] = id
                    stack.removeLast()
                    continue
                }
                let pending = node.operands.filter { readsOnline[$0] && clones[$0] == nil }
                if !pending.isEmpty { stack.append(contentsOf: pending); continue }
                var copy = node
                copy.operands = node.operands.map { clones[$0] ?? $0 }
                clones[top] = graph.append(copy)
                stack.removeLast()
            }
            return clones[value]!
        }

        var replacement: [ValueID: ValueID] = [:]
        for marker in markers {
            let targetValue = clone(graph[marker].operands[0])
            var node = graph[marker]
            node.operands = [targetValue]
            replacement[marker] = graph.append(node)
        }
        // Running statistics of the target's own BatchNorms, updated like the online ones.
        for assign in graph.assigns where assign.name.hasPrefix(onlinePrefix) {
            guard let declaration = graph.declaration(named: assign.name), case .state = graph[declaration].op,
                  readsOnlyParams(in: reached, assign.value, graph, readsOnline) else { continue }
            // The target's copy of the state, declared even when the update does not read it.
            _ = clone(declaration)
            graph.assigns.append(Assign(name: targetPrefix + assign.name.dropFirst(onlinePrefix.count),
                                        value: clone(assign.value), location: assign.location))
        }
        var keep = [Bool](repeating: true, count: graph.nodes.count)
        for marker in markers { keep[marker] = false }
        graph.rebuild(keeping: keep, replacing: replacement)
        graph.rebuild(keeping: graph.liveness)
    }

    /// Whether every online param `value` reads is in `allowed`: the update belongs to a
    /// module the target has (a BatchNorm of the encoder or projector, not of the predictor).
    private func readsOnlyParams(in allowed: Set<ValueID>, _ value: ValueID, _ graph: Graph, _ readsOnline: [Bool]) -> Bool {
        var work = [value], seen = Set<ValueID>()
        while let next = work.popLast() {
            guard seen.insert(next).inserted, readsOnline[next] else { continue }
            if case .param = graph[next].op, !allowed.contains(next) { return false }
            work.append(contentsOf: graph[next].operands)
        }
        return true
    }
}

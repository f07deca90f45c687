// EMAUpdate: BYOL's target update ξ ← τ·ξ + (1 − τ)·θ as assigns, after the optimizer's.
//
// For every target weight that MakeTarget cloned from an online param (a state whose
// declaration says `target_of` a param), the step writes
// τ·target + (1 − τ)·online_new, where online_new is the value the optimizer assigns to the
// online param in the same step (the paper updates the target after the optimizer step).
// τ is the scalar input %tau: the host computes it from the optimizer step with the cosine
// schedule, so it is keyed to optimizer steps, never to micro-batches. The target's BatchNorm
// running statistics are not averaged: the target's own BatchNorm updates them.

import GraftIR

/// Appends the exponential-moving-average update of the target network.
public struct EMAUpdate: Pass, Sendable {
    public let name = "ema"

    public init() {}

    public func run(_ graph: inout Graph) throws {
        let pairs = graph.targetPairs.filter { pair in
            graph.declaration(named: pair.online).map { if case .param = graph[$0].op { true } else { false } } ?? false
        }
        guard !pairs.isEmpty else {
            throw Diagnostic("ema: there are no target weights to update (no state says `target_of` a param); run make-target first")
        }
        if let assign = graph.assigns.first(where: { assign in pairs.contains { $0.target == assign.name } }) {
            throw Diagnostic("ema: target weight @\(assign.name) is already updated (assign @\(assign.name)); ema runs once", at: assign.location)
        }
        let tau = try graph.addScalarInput("tau", for: name)
        let newValues = Dictionary(graph.assigns.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        for (targetName, onlineName) in pairs {
            guard let target = graph.declaration(named: targetName), let online = graph.declaration(named: onlineName) else { continue }
            let location = graph[target].location
            let type = graph[target].type
            let onlineNew = newValues[onlineName] ?? online
            let keep = graph.broadcast(tau, to: type, at: location)
            let one = graph.splat(1, type, at: location)
            let follow = graph.add(.sub, [one, keep], at: location)
            let kept = graph.add(.mul, [keep, target], at: location)
            let moved = graph.add(.mul, [follow, onlineNew], at: location)
            graph.assigns.append(Assign(name: targetName, value: graph.add(.add, [kept, moved], at: location), location: location))
        }
        graph.rebuild(keeping: graph.liveness)
    }
}

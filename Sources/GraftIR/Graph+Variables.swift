// Graph+Variables: what a graph's declarations say about its params and state: initial
// values, gradient outputs and target/online pairs, all read from `Graph.variables`.

extension Graph {
    /// The initial value of every param and state, each drawn from its initializer with the
    /// stream keyed by `seed` and its name: the same values whichever stage the graph is at.
    public func initialValues(seed: UInt64) -> [String: HostTensor] {
        var values: [String: HostTensor] = [:]
        for id in params + states {
            guard let name = nodes[id].op.declaredName, let info = variables[name] else { continue }
            values[name] = info.initializer.values(nodes[id].type, name: name, seed: seed)
        }
        return values
    }

    /// The params whose gradients are outputs (set by autodiff), in output order.
    public var gradients: [(param: String, output: Int)] {
        variables.compactMap { name, info in info.gradient.map { (name, $0) } }.sorted { $0.output < $1.output }
    }

    /// Each target state and the online param or state it shadows (set by make-target), in
    /// declaration order.
    public var targetPairs: [(target: String, online: String)] {
        states.compactMap { id in
            guard let name = nodes[id].op.declaredName, let online = variables[name]?.targetOf else { return nil }
            return (name, online)
        }
    }
}

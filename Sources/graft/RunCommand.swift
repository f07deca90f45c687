// RunCommand: `graft run <file.gir>` executes any IR graph once, compiled (or in the reference
// interpreter), on inputs from a safetensors file or seeded random ones, and writes its outputs.

import Graft
import ArgumentParser
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Execute an IR graph once on given or random inputs and write its outputs.",
        discussion: """
            The graph's params and state start from their `init` attributes (drawn with --seed), \
            or from --variables (any safetensors file whose tensors are named like them, such as a \
            training checkpoint). Inputs come from --inputs by name; those it lacks are drawn from \
            --seed: f32 uniformly in [-1, 1), integers uniformly in 0..<--index-bound, bools 0 or 1. \
            The outputs are printed (scalars in full, others as min/mean/max) and, with -o, written \
            to a safetensors file as output.0, output.1, … followed by the params and state after \
            the graph's assigns.
            """)

    @Argument(help: "The IR text file to run ('-' reads standard input).")
    var file: String

    @Option(name: .long, help: "A safetensors file with a tensor for each input, by name (without %).")
    var inputs: String?

    @Option(name: .long, help: "A safetensors file with values for params and state, by name (without @).")
    var variables: String?

    @Option(name: [.short, .long], help: "Write the outputs and the variables after the run to this safetensors file.")
    var output: String?

    @Option(name: .long, parsing: .unconditional, help: "Seed for the variables' initial values and for random inputs.")
    var seed: UInt64 = 0

    @Option(name: .long, parsing: .unconditional, help: "Random integer inputs are drawn from 0..<N.")
    var indexBound: Int = 2

    @Flag(name: .long, help: "Run in the reference interpreter instead of compiling.")
    var interpreter = false

    @Flag(name: .long, help: "Run both compiled and in the interpreter and print each output's largest difference.")
    var compare = false

    func validate() throws {
        guard indexBound >= 1, indexBound <= 1 << 24 else {
            throw ValidationError("--index-bound must be between 1 and 16777216 (integers are held exactly up to 2^24), got \(indexBound)")
        }
        if interpreter && compare {
            throw ValidationError("--compare already runs the interpreter beside the compiled graph; give one of --interpreter and --compare")
        }
        if let output {
            try validateWritableFile(output, flag: "--output")
            try validateDistinctOutput(output, flag: "--output", inputs: [file] + [inputs, variables].compactMap { $0 })
        }
    }

    func run() throws {
        do {
            let graph = try Parser.parse(try readIRText(file), file: file == "-" ? "<stdin>" : file)
            try Verifier.verify(graph)
            // Inputs, params and state are allocated here; the interpreter also holds every value.
            let inputIDs = Set(graph.inputs)
            let held = graph.nodes.indices.filter { interpreter || compare || graph[$0].op.isVariable || inputIDs.contains($0) }
            try MemoryBudget.check(MemoryBudget.total(held.map { MemoryBudget.bytes(of: graph[$0].type) }),
                                   for: "'\(file)': @\(graph.name)'s \(interpreter || compare ? "values in the interpreter" : "inputs, params and state")")
            let variableValues = try initialVariables(of: graph)
            let inputValues = try inputs(of: graph)
            let result: InterpreterResult
            if interpreter {
                result = try Interpreter().run(graph, inputs: inputValues, variables: variableValues)
            } else {
                let executable = try Executable(graph)
                try executable.setVariables(variableValues)
                result = InterpreterResult(outputs: try executable.run(inputValues), variables: executable.variables)
                if compare {
                    let reference = try Interpreter().run(graph, inputs: inputValues, variables: variableValues)
                    for (index, (compiled, expected)) in zip(result.outputs, reference.outputs).enumerated() {
                        print("output \(index): largest difference from the interpreter \(RunCommand.largestDifference(compiled, expected))")
                    }
                }
            }
            for (index, value) in result.outputs.enumerated() { print("output \(index): \(RunCommand.summary(of: value))") }
            if let output {
                var tensors: [String: CheckpointTensor] = [:]
                for (index, value) in result.outputs.enumerated() { tensors["output.\(index)"] = CheckpointTensor(value) }
                for (name, value) in result.variables { tensors[name] = CheckpointTensor(value) }
                try Checkpoint(tensors: tensors, metadata: ["format": "graft-run-1", "graph": graph.name]).write(to: output)
                print("wrote \(result.outputs.count) outputs and \(result.variables.count) variables to \(output)")
            }
        } catch {
            exitWithDiagnostic(error)
        }
    }

    /// The graph's params and state: their initial values, replaced by those in --variables.
    private func initialVariables(of graph: Graph) throws -> [String: HostTensor] {
        var values = graph.initialValues(seed: seed)
        guard let path = variables else { return values }
        let checkpoint = try Checkpoint.read(from: path)
        var used = 0
        for name in checkpoint.tensors.keys.sorted() {
            guard values[name] != nil, let id = graph.declaration(named: name) else { continue }
            let value = try checkpoint.hostTensor(name, from: path)
            guard value.type == graph[id].type else {
                throw Diagnostic("'\(path)' holds '\(name)' as \(value.type) but @\(graph.name) declares it \(graph[id].type)")
            }
            values[name] = value
            used += 1
        }
        guard used > 0 || values.isEmpty else {
            throw Diagnostic("'\(path)' has none of @\(graph.name)'s params or state (\(values.keys.sorted().prefix(3).joined(separator: ", "))…); its tensors are named for another graph")
        }
        return values
    }

    /// The graph's inputs: those in --inputs, the rest drawn at random.
    private func inputs(of graph: Graph) throws -> [String: HostTensor] {
        var declared: [String: TensorType] = [:]
        for id in graph.inputs {
            if case .input(let name) = graph[id].op { declared[name] = graph[id].type }
        }
        var values: [String: HostTensor] = [:]
        if let path = inputs {
            let checkpoint = try Checkpoint.read(from: path)
            for name in checkpoint.tensors.keys.sorted() {
                guard let type = declared[name] else {
                    throw Diagnostic("'\(path)' has a tensor '\(name)', but @\(graph.name) has no input %\(name); its inputs are \(declared.keys.sorted().map { "%\($0)" }.joined(separator: ", "))")
                }
                let value = try checkpoint.hostTensor(name, from: path)
                guard value.type == type else {
                    throw Diagnostic("'\(path)' holds input '\(name)' as \(value.type) but @\(graph.name) declares %\(name): \(type)")
                }
                values[name] = value
            }
        }
        for name in declared.keys.sorted() where values[name] == nil {
            var random = SplitMix64(seed: seed, name: "input." + name)
            let type = declared[name]!
            let scalars: [Float] = (0..<type.elementCount).map { _ in
                switch type.dtype {
                case .f32: Float(random.nextUnit() * 2 - 1)
                case .i32: Float(random.next() % UInt64(indexBound))
                case .bool: Float(random.next() & 1)
                }
            }
            values[name] = HostTensor(type, scalars)
        }
        return values
    }

    /// `f32[] 2.302585` for a scalar, else its type with min, mean and max.
    static func summary(of value: HostTensor) -> String {
        guard value.scalars.count != 1 else { return "\(value.type) \(value.scalars[0])" }
        guard !value.scalars.isEmpty else { return "\(value.type) (empty)" }
        let mean = value.scalars.reduce(0.0) { $0 + Double($1) } / Double(value.scalars.count)
        return "\(value.type) min \(value.scalars.min()!) mean \(Float(mean)) max \(value.scalars.max()!)"
    }

    /// The largest absolute difference, and the largest relative to max(1, |expected|).
    static func largestDifference(_ value: HostTensor, _ expected: HostTensor) -> String {
        var absolute: Float = 0, relative: Float = 0
        for (a, b) in zip(value.scalars, expected.scalars) {
            let difference = a == b ? 0 : abs(a - b)
            absolute = Swift.max(absolute, difference.isNaN ? .infinity : difference)
            relative = Swift.max(relative, difference.isNaN ? .infinity : difference / Swift.max(1, abs(b)))
        }
        return "\(absolute) (relative \(relative))"
    }
}

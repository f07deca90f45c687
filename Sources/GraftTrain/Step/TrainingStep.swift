// TrainingStep: any traced model whose output 0 is a loss, compiled into one training step.

import Foundation
import GraftIR
import GraftDSL
import GraftPasses
import GraftBackend
import GraftRuntime
import GraftCheckpoint

/// A model's training step, compiled: gradients, the optimizer update and (for BYOL-style
/// models) the target network's EMA update, as one native program that owns the model's
/// params, state and optimizer buffers.
///
/// ```swift
/// let model = try trace("lenet", seed: 1) { g in … return [loss, accuracy] }
/// let step = try TrainingStep(model, pipeline: TrainingPipeline(target: .none, optimizer: SGD(momentum: 0.9)),
///                             learningRate: LearningRateSchedule(base: 0.05, warmupSteps: 100, totalSteps: 5_000))
/// let outputs = try step.run(["images": images, "labels": labels])   // outputs[0]: the loss
/// ```
///
/// The inputs the optimizer and EMA rewrites add (`%learning_rate`, `%tau`, `%step`) are
/// filled from the schedules at the step's position; the caller gives the model's own
/// inputs, by name, and a missing, extra or mis-shaped one is an error naming it.
public final class TrainingStep {
    /// The forward graph as traced.
    public let model: TracedGraph
    /// The rewrites from the forward graph to the step.
    public let pipeline: TrainingPipeline
    /// The whole step (the `optimized` stage).
    public let graph: Graph
    /// The compiled step (replica 0's, when the step runs as several local replicas).
    public let executable: Executable
    /// The compiled step's replicas on this machine's cores (one unless `replicas` was given).
    public let local: LocalReplicas
    public var learningRate: LearningRateSchedule
    /// τ of the EMA update; required when the pipeline's target follows by EMA.
    public var tau: TargetDecaySchedule?
    /// Optimizer steps taken so far (the position the schedules are read at).
    public private(set) var stepsTaken = 0
    /// The model's own inputs (those the caller gives to `run`, the whole batch), by name.
    public let dataInputs: [String: TensorType]
    /// Local replicas the step runs as (see `init`).
    public var replicas: Int { local.executables.count }

    /// The inputs the step's rewrites add, filled from the schedules.
    public static let scheduleInputs: Set<String> = ["learning_rate", "tau", "step"]

    /// Compiles `model`'s training step and sets its variables to their initial values
    /// (drawn with the model's seed).
    ///
    /// With `replicas` > 1 the step runs data-parallel on this machine's cores: `model` is
    /// traced at one replica's share of the batch (the batch / `replicas`), the pipeline gets
    /// cross-replica statistics, and `replicas` copies of the step, each with `threads /
    /// replicas` workers, train on consecutive rows of every batch `run` is given (the whole
    /// batch) and all-reduce BatchNorm's statistics, the loss and the gradients: the whole
    /// batch's step, to round-off, with no kernel split across cores (`LocalReplicas`).
    /// - Throws: a `Diagnostic` if the model's output 0 is not a scalar loss, if a rewrite
    ///   fails (a model whose step cannot be split across replicas is one), or if the step
    ///   follows a target by EMA and no `tau` schedule is given.
    public init(_ model: TracedGraph, pipeline: TrainingPipeline, learningRate: LearningRateSchedule,
                tau: TargetDecaySchedule? = nil, threads: Int = 2, replicas: Int = 1) throws {
        let forward = model.graph
        guard let loss = forward.outputs.first else {
            throw Diagnostic("@\(forward.name) has no outputs; a training step needs the loss as output 0")
        }
        guard forward[loss].type.elementCount == 1, forward[loss].type.dtype == .f32 else {
            throw Diagnostic("@\(forward.name)'s output 0 is \(forward[loss].type), but a training step differentiates output 0 and needs it to be the scalar f32 loss; return the loss first",
                             at: forward[loss].location)
        }
        guard replicas >= 1 else { throw Diagnostic("a training step runs as at least one replica, not \(replicas)") }
        var pipeline = pipeline
        if replicas > 1 {
            guard case .none = pipeline.dataParallelism else {
                throw Diagnostic("the pipeline already trains as one replica of a group; local replicas split a single process's batch, so give replicas: 1")
            }
            pipeline.dataParallelism = .crossReplica(replicas: replicas)
        }
        var graph = forward
        try pipeline.run(&graph, until: .optimized)
        if graph.declaration(named: "tau") != nil, tau == nil {
            throw Diagnostic("@\(forward.name)'s step updates a target network by EMA (input %tau); pass tau: TargetDecaySchedule(base: 0.99, totalSteps: …)")
        }
        self.model = model
        self.pipeline = pipeline
        self.graph = graph
        self.learningRate = learningRate
        self.tau = tau
        local = try LocalReplicas(graph, replicas: replicas, threadsPerReplica: Swift.max(1, threads / replicas))
        executable = local.executables[0]
        let initialValues = graph.initialValues(seed: model.seed)
        for replica in local.executables { try replica.setVariables(initialValues) }
        var dataInputs: [String: TensorType] = [:]
        for id in graph.inputs {
            if case .input(let name) = graph[id].op, !TrainingStep.scheduleInputs.contains(name) {
                var type = graph[id].type
                if replicas > 1 {
                    guard !type.shape.isEmpty else {
                        throw Diagnostic("input %\(name) of @\(forward.name) is a scalar, but local replicas split every input of the model along its leading dimension (the batch); give replicas: 1")
                    }
                    type.shape[0] *= replicas
                }
                dataInputs[name] = type
            }
        }
        self.dataInputs = dataInputs
    }

    /// The schedule inputs at the current position: what `run` adds to the caller's inputs.
    public var scheduleValues: [String: HostTensor] {
        var values: [String: HostTensor] = [:]
        for id in graph.inputs {
            guard case .input(let name) = graph[id].op else { continue }
            switch name {
            case "learning_rate": values[name] = HostTensor(scalar: Float(learningRate.value(atStep: stepsTaken)))
            case "tau": values[name] = HostTensor(scalar: Float(tau?.value(atStep: stepsTaken) ?? 1))
            case "step": values[name] = HostTensor(scalar: Float(stepsTaken + 1))
            default: break
            }
        }
        return values
    }

    /// Runs one training step on the model's inputs and returns the forward graph's outputs
    /// (the loss first); the params, state and optimizer buffers are updated in place.
    /// - Throws: a `Diagnostic` naming an input that is missing, not the model's, or of the
    ///   wrong type.
    @discardableResult
    public func run(_ inputs: [String: HostTensor]) throws -> [HostTensor] {
        try checkInputs(inputs)
        let all = inputs.merging(scheduleValues) { given, _ in given }
        let outputs = replicas == 1 ? try executable.run(all)
            : try local.run(try LocalReplicas.split(all, into: replicas, along: Set(dataInputs.keys)))[0]
        stepsTaken += 1
        return Array(outputs.prefix(model.graph.outputs.count))
    }

    /// Checks the caller's inputs against `dataInputs`.
    public func checkInputs(_ inputs: [String: HostTensor]) throws {
        let expected = dataInputs.keys.sorted().map { "%\($0): \(dataInputs[$0]!)" }.joined(separator: ", ")
        for name in inputs.keys.sorted() where dataInputs[name] == nil {
            let why = TrainingStep.scheduleInputs.contains(name) ? " (the step fills it from its schedules)" : ""
            throw Diagnostic("'\(name)' is not an input of @\(graph.name)\(why); its inputs are \(expected)")
        }
        for name in dataInputs.keys.sorted() {
            guard let value = inputs[name] else {
                throw Diagnostic("no value was given for input %\(name) of @\(graph.name); its inputs are \(expected)")
            }
            guard value.type == dataInputs[name]!, value.scalars.count == value.type.elementCount else {
                throw Diagnostic("input %\(name) of @\(graph.name) is \(dataInputs[name]!) but the value given is \(value.type)")
            }
        }
    }

    /// The model's IR at `stage`, as `graft dump` prints it: the text of the traced,
    /// autodiff and optimized graphs (which `graft opt` parses), or the fused kernels, the
    /// memory plan, LLVM IR or assembly of the step.
    public func ir(at stage: CompilationStage) throws -> String {
        if let backend = stage.backendStage { return try BackendPipeline.text(of: graph, at: backend) }
        var graph = model.graph
        try pipeline.run(&graph, until: stage.passStage)
        return Printer().print(graph)
    }

    // MARK: Replicas

    /// The group this step is one replica of (data-parallel training); a single process by
    /// default. Set it before the first `run`.
    /// A step of several local replicas is, to its caller, one process: a group of one.
    public var communicator: any Communicator {
        get { replicas == 1 ? executable.communicator : wholeProcess }
        set {
            precondition(replicas == 1, "TrainingStep: a step of \(replicas) local replicas has its own group; make it with replicas: 1 to join another")
            executable.communicator = newValue
        }
    }

    private let wholeProcess = SingleProcess()

    /// Gives every replica rank 0's params, state and position, so a group starts from one
    /// state (as after `restore` on rank 0 alone).
    public func broadcastVariables() {
        for name in executable.variableNames {
            var value = executable.variable(name)!
            value.scalars.withUnsafeMutableBufferPointer { communicator.broadcast($0.baseAddress!, count: $0.count) }
            try! setVariable(name, value)   // the same name and type it was read with
        }
        var position = [Float(stepsTaken)]
        position.withUnsafeMutableBufferPointer { communicator.broadcast($0.baseAddress!, count: 1) }
        stepsTaken = Int(position[0])
    }

    // MARK: Variables

    /// Every param, state and optimizer buffer, by name.
    public var variables: [String: HostTensor] { executable.variables }

    /// Sets the variables named in `values`.
    /// - Throws: a `Diagnostic` naming a variable the step does not have or whose type differs.
    public func setVariables(_ values: [String: HostTensor]) throws {
        for name in values.keys.sorted() { try setVariable(name, values[name]!) }
    }

    /// Sets one variable on every replica.
    private func setVariable(_ name: String, _ value: HostTensor) throws {
        for replica in local.executables { try replica.setVariable(name, value) }
    }

    // MARK: Checkpoints

    /// The checkpoint key holding the optimizer step.
    public static let stepKey = "graft.step"
    /// The `format` metadata of a training checkpoint.
    public static let checkpointFormat = "graft-training-checkpoint-1"

    /// Writes every variable and the position to a safetensors file, atomically (a crash
    /// mid-write leaves the previous file whole). `metadata` is stored beside Graft's own
    /// (`format`, `model`, `step`).
    public func save(to path: String, metadata: [String: String] = [:]) throws {
        var tensors: [String: CheckpointTensor] = [:]
        for (name, value) in executable.variables { tensors[name] = CheckpointTensor(value) }
        tensors[TrainingStep.stepKey] = CheckpointTensor(shape: [1], [UInt64(stepsTaken)])
        let own = ["format": TrainingStep.checkpointFormat, "model": model.graph.name, "step": String(stepsTaken)]
        try Checkpoint(tensors: tensors, metadata: metadata.merging(own) { _, graft in graft }).write(to: path)
    }

    /// Restores every variable and the position from a checkpoint written by `save(to:)`, so
    /// the next `run` continues the saved run exactly.
    /// - Throws: a `Diagnostic` naming the file and what is missing or different.
    @discardableResult
    public func restore(from path: String) throws -> Checkpoint {
        let checkpoint = try Checkpoint.read(from: path)
        try restore(checkpoint, path: path)
        return checkpoint
    }

    /// Restores from a checkpoint already read from `path`.
    public func restore(_ checkpoint: Checkpoint, path: String) throws {
        guard checkpoint.metadata["format"] == TrainingStep.checkpointFormat else {
            throw Diagnostic("'\(path)' is a safetensors file but not a Graft training checkpoint (no \(TrainingStep.checkpointFormat) metadata); pass a file written by TrainingStep.save or graft train")
        }
        for name in executable.variableNames {
            guard checkpoint.tensors[name] != nil else {
                throw Diagnostic("'\(path)' has no tensor '\(name)', which @\(graph.name) needs; it was written by a different model (\(checkpoint.metadata["model"] ?? "unknown")) or version")
            }
            let value = try checkpoint.hostTensor(name, from: path)
            guard value.type == executable.graph[executable.graph.declaration(named: name)!].type else {
                throw Diagnostic("'\(path)' holds '\(name)' as \(value.type) but @\(graph.name) declares it \(executable.graph[executable.graph.declaration(named: name)!].type); it was written by a model of another shape")
            }
            try setVariable(name, value)
        }
        guard let step = try checkpoint.values(TrainingStep.stepKey, as: UInt64.self, from: path).first else {
            throw Diagnostic("'\(path)' has no '\(TrainingStep.stepKey)' tensor; it is not a complete training checkpoint")
        }
        guard let taken = Int(exactly: step), taken <= Int(Int32.max) else {
            throw Diagnostic("'\(path)' says the run took \(step) steps, more than any run takes; the file is damaged or was edited")
        }
        stepsTaken = taken
    }

    // MARK: Inference

    /// Compiles `inference` (the same model traced with `training: false`, at any batch size)
    /// and gives it this step's current params and state.
    /// - Throws: a `Diagnostic` naming a param or state of the inference graph that the step
    ///   does not have (a different model) or has with another type.
    public func inference(_ inference: TracedGraph, threads: Int = 2) throws -> Executable {
        let executable = try Executable(inference.graph, threads: threads)
        let values = variables
        for name in executable.variableNames {
            guard let value = values[name] else {
                throw Diagnostic("the inference graph @\(inference.graph.name) declares '\(name)', which the training step @\(graph.name) does not have; trace the same layers under the same scopes")
            }
            try executable.setVariable(name, value)
        }
        return executable
    }
}

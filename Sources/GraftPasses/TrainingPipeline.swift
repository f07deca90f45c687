// TrainingPipeline: the passes that turn a declared forward graph into one training step.

import GraftIR

/// How a BYOL-style model's target network is made and updated.
public enum TargetUpdate: String, Sendable, CaseIterable {
    /// BYOL: a separate target network following the online one by EMA (input %tau).
    case ema
    /// The τ = 0 ablation: the target is the stop-gradient copy of the online network the
    /// model declares; no target variables.
    case stopGradientCopy
    /// The τ = 1 ablation: a separate target network that keeps its random initial weights
    /// (its BatchNorm statistics still update).
    case frozen
    /// Not a BYOL-style model: no target network.
    case none
}

/// How a step is split across replicas that each train on a shard of the global batch.
public enum DataParallelism: Hashable, Sendable {
    /// One process, the whole batch.
    case none
    /// Data parallelism over `replicas` replicas with batch statistics (BatchNorm's, the loss)
    /// over the global batch (`CrossReplicaStatistics`) and gradients averaged over the
    /// replicas: the same step as one process on the whole batch.
    case crossReplica(replicas: Int)
    /// Data parallelism with each replica's BatchNorm normalising by its own shard's
    /// statistics (as with per-device statistics): only the gradients are averaged.
    case perReplica
}

/// Stages of compilation whose graph `graft dump` can print.
public enum PipelineStage: String, Sendable, CaseIterable {
    /// The forward graph as declared.
    case traced
    /// Target network made and gradients appended as outputs.
    case autodiff
    /// The whole training step: optimizer and EMA updates, simplified.
    case optimized
}

/// The rewrites from a declared forward graph (output 0: the loss) to one training step:
/// target network, cross-replica statistics, reverse-mode gradients, their average over the
/// replicas, optimizer update, EMA update, simplification, shared reductions.
public struct TrainingPipeline: Sendable {
    public var target: TargetUpdate
    /// The optimizer rewrite (`LARS`, `SGD`, `AdamW`).
    public var optimizer: any Pass & Sendable
    /// Whether the step is one replica's of a data-parallel group, and how.
    public var dataParallelism: DataParallelism

    public init(target: TargetUpdate, optimizer: any Pass & Sendable, dataParallelism: DataParallelism = .none) {
        self.target = target
        self.optimizer = optimizer
        self.dataParallelism = dataParallelism
    }

    /// The passes that produce `stage` from the traced graph, in order.
    public func passes(until stage: PipelineStage) -> [any Pass] {
        var passes: [any Pass] = []
        guard stage != .traced else { return passes }
        if target == .ema || target == .frozen { passes.append(MakeTarget()) }
        if case .crossReplica(let replicas) = dataParallelism { passes.append(CrossReplicaStatistics(replicas: replicas)) }
        passes.append(Autodiff())
        guard stage != .autodiff else { return passes }
        if dataParallelism != .none { passes.append(GradientAllReduce()) }
        passes.append(optimizer)
        if target == .ema { passes.append(EMAUpdate()) }
        passes += TrainingPipeline.simplification + TrainingPipeline.reductionSharing
        return passes
    }

    /// Constant folding, algebraic identities, CSE and DCE, in the order each helps the next.
    public static let simplification: [any Pass & Sendable] = [
        ConstantFolding(), AlgebraicSimplification(), CommonSubexpressionElimination(), DeadCodeElimination(),
    ]

    /// Factors that are the same along a reduction's axes taken out of it, then
    /// `simplification` again, whose CSE computes each distinct sum once (BatchNorm's backward
    /// has five reductions where three suffice). Unlike `simplification`, this changes rounding.
    public static let reductionSharing: [any Pass & Sendable] = [ReductionFactoring()] + simplification

    /// Runs the passes up to `stage` on `graph`, calling `afterEachPass` after each one.
    public func run(_ graph: inout Graph, until stage: PipelineStage,
                    afterEachPass: ((String, Graph) -> Void)? = nil) throws {
        try PassManager(passes(until: stage), afterEachPass: afterEachPass).run(&graph)
    }
}

/// Every pass by name, for `graft opt --passes`.
///
/// The optimizers have the settings the declared models use (BYOL's LARS, the supervised
/// baseline's Nesterov SGD with weight decay), so `graft opt --passes` resumes a dumped stage
/// of any declared model exactly as its in-process pipeline would (`StageTextTests`).
public enum PassRegistry {
    public static let all: [String: any Pass & Sendable] = [
        "make-target": MakeTarget(), "autodiff": Autodiff(), "lars": LARS(momentum: 0.9, trustCoefficient: 1e-3, weightDecay: 1.5e-6),
        "sgd": SGD(momentum: 0.9, nesterov: true, weightDecay: 5e-4),
        "adamw": AdamW(), "ema": EMAUpdate(), "constant-fold": ConstantFolding(), "simplify": AlgebraicSimplification(),
        "cse": CommonSubexpressionElimination(), "dce": DeadCodeElimination(),
        "factor-reductions": ReductionFactoring(), "gradient-all-reduce": GradientAllReduce(),
    ]

    /// The passes that take a number, spelled `name=N`: `cross-replica-statistics=N` makes a
    /// step's batch statistics those of N replicas' global batch.
    public static let parameterized = ["cross-replica-statistics"]

    /// Every spelling `pass(named:)` accepts, for help texts and errors.
    public static var spellings: [String] { (all.keys.sorted() + parameterized.map { $0 + "=N" }).sorted() }

    /// The pass a `graft opt --passes` entry names: a name of `all`, or `name=N` for a
    /// pass of `parameterized`.
    /// - Throws: a `Diagnostic` naming the passes for an unknown name, and saying what N
    ///   must be for a missing or bad number.
    public static func pass(named spelling: String) throws -> any Pass & Sendable {
        if let pass = all[spelling] { return pass }
        let parts = spelling.split(separator: "=", maxSplits: 1).map(String.init)
        if parts[0] == "cross-replica-statistics" {
            guard parts.count == 2, let replicas = Int(parts[1]), replicas >= 1 else {
                throw Diagnostic("'\(spelling)': cross-replica-statistics needs the number of replicas the batch is split across, as cross-replica-statistics=N with N ≥ 1 (e.g. cross-replica-statistics=2)")
            }
            return CrossReplicaStatistics(replicas: replicas)
        }
        throw Diagnostic("unknown pass '\(spelling)'; the passes are: \(spellings.joined(separator: ", "))")
    }

    /// How `pass` is spelled for `pass(named:)`: its name, with its number for a pass of
    /// `parameterized` (`cross-replica-statistics=2`).
    public static func spelling(of pass: any Pass) -> String {
        if let statistics = pass as? CrossReplicaStatistics { return "\(statistics.name)=\(statistics.replicas)" }
        return pass.name
    }
}

// BackendPipeline: the stages after the pass pipeline, in one place: fusion into kernels,
// the memory plan, LLVM code and its compilation into calls. `Executable` is built by
// `lower(_:cache:)`, and `graft dump` and `graft opt --stage` print each stage by `text(of:at:)`,
// so what is printed is what runs.
//
//   traced → autodiff → optimized      passes (TrainingPipeline, PassManager)
//   → fused → planned → llvm | asm     this file

import GraftIR
import GraftPasses

/// Every stage of compilation whose result can be printed, in pipeline order.
public enum CompilationStage: String, CaseIterable, Sendable {
    case traced, autodiff, optimized, fused, planned, llvm, asm

    /// The pass-pipeline stage this stage starts from.
    public var passStage: PipelineStage {
        switch self {
        case .traced: .traced
        case .autodiff: .autodiff
        case .optimized, .fused, .planned, .llvm, .asm: .optimized
        }
    }

    /// The backend stage, for the stages after the passes.
    public var backendStage: BackendStage? { BackendStage(rawValue: rawValue) }
}

/// The stages after the pass pipeline.
public enum BackendStage: String, CaseIterable, Sendable {
    /// Kernels: loops of fused ops, reductions, contractions (`FusionPlan`).
    case fused
    /// Every buffer's place in the arena (`MemoryPlan`).
    case planned
    /// The kernels' LLVM IR after O3, each function named with the kernels it runs.
    case llvm
    /// The host assembly of the same module.
    case asm
}

/// A graph lowered all the way: what an `Executable` runs.
public struct LoweredGraph {
    public let plan: FusionPlan
    public let memory: MemoryPlan
    public let kernels: CompiledKernels
    /// What runs each kernel of `plan`, in order.
    public let calls: [KernelCall]
}

public enum BackendPipeline {
    /// Fuses, plans and compiles `graph` into `cache`.
    public static func lower(_ graph: Graph, cache: KernelCache) throws -> LoweredGraph {
        let plan = FusionPlan(graph)
        let memory = MemoryPlan(plan)
        let kernels = try cache.compile(plan)
        return LoweredGraph(plan: plan, memory: memory, kernels: kernels, calls: kernels.calls(for: plan))
    }

    /// The text of `graph` at a backend stage, going only as far as the stage needs.
    /// - Parameters:
    ///   - printLocations: `loc(...)` after each op of the fused stage.
    ///   - dot: the fused stage as Graphviz DOT instead of text.
    ///   - dotDetail: in the DOT picture, every op of each kernel.
    public static func text(of graph: Graph, at stage: BackendStage, printLocations: Bool = false, dot: Bool = false,
                            dotDetail: Bool = false) throws -> String {
        let plan = FusionPlan(graph)
        switch stage {
        case .fused:
            return dot ? plan.dot(detailed: dotDetail) : plan.describe(printLocations: printLocations)
        case .planned:
            return MemoryPlan(plan).describe(plan)
        case .llvm, .asm:
            let jit = try LLVMJIT()
            let compiled = try KernelCache(jit: jit).compile(plan, keepingOptimizedIR: stage == .llvm)
            return compiled.legend + (stage == .llvm ? compiled.optimizedIR : try jit.assembly(for: compiled.sourceIR))
        }
    }
}

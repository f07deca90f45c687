// End-to-end tests of the `graft` command line: run the built binary, read its output and exit code.

import Testing
import Foundation
import GraftTestSupport

/// Runs a program and returns its exit status, standard output and standard error.
func run(_ executable: URL, _ arguments: [String], input: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let result = try runProgram(executable, arguments, input: input)
    return (result.status, result.stdout, result.stderr)
}

@Suite struct CLITests {
    @Test func modelsListsEveryDeclaredModel() throws {
        let result = try run(try graftBinary(), ["models"])
        #expect(result.status == 0)
        for name in ["byol-s", "byol-t", "supervised-s"] { #expect(result.stdout.contains(name)) }
    }

    @Test(arguments: ["byol-s", "byol-t", "supervised-s", "supervised-t"], ["traced", "optimized"])
    func dumpRoundTripsThroughOpt(model: String, stage: String) throws {
        let graft = try graftBinary()
        for flags in [[String](), ["--print-loc"]] {
            let dump = try run(graft, ["dump", model, "--stage", stage] + flags)
            #expect(dump.status == 0, "\(dump.stderr)")
            let opt = try run(graft, ["opt", "-"] + flags, input: dump.stdout)
            #expect(opt.status == 0, "\(opt.stderr)")
            #expect(opt.stdout == dump.stdout)
        }
    }

    @Test func byolSDumpsTheWholeForwardGraphAtBatch256() throws {
        let dump = try run(try graftBinary(), ["dump", "byol-s"])
        #expect(dump.stdout.hasPrefix("graph @byol_s(%view1: f32[256,1,28,28], %view2: f32[256,1,28,28]) -> (f32[], f32[]) {"))
        #expect(dump.stdout.contains("param @online.encoder.stage2.block0.conv1.weight : f32[64,32,3,3]"))
        #expect(dump.stdout.contains("param @online.projector.fc2.weight : f32[128,512]"))
        #expect(!dump.stdout.contains("@target."))   // the target network is made by a rewrite
        #expect(dump.stdout.contains("param @online.predictor.fc1.weight : f32[512,128]"))
        #expect(dump.stdout.hasSuffix(": f32[], f32[]\n}\n"))
    }

    @Test func optimizedStepIsOneGraphThatRoundTrips() throws {
        let graft = try graftBinary()
        let dump = try run(graft, ["dump", "byol-s", "--stage", "optimized"])
        #expect(dump.status == 0, "\(dump.stderr)")
        let text = dump.stdout
        #expect(text.hasPrefix("graph @byol_s(%view1: f32[256,1,28,28], %view2: f32[256,1,28,28], %learning_rate: f32[], %tau: f32[]) -> (f32[], f32[]) {"))
        // Both networks, the gradients (conv gradients), LARS buffers, EMA and BN statistics.
        for fragment in ["state @target.encoder.stage3.block1.conv2.weight", "conv2d_filter_grad", "conv2d_input_grad",
                         "state @optimizer.online.predictor.fc1.weight.momentum", "assign @target.projector.fc2.weight",
                         "assign @target.encoder.stem.bn.running_mean", "assign @online.encoder.stem.bn.running_var",
                         "assign @online.encoder.stem.conv.weight", "broadcast(%tau)"] {
            #expect(text.contains(fragment), "missing \(fragment)")
        }
        // 55 params and their momentum, 50 target weights, 33 BatchNorms' two statistics.
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("  assign ") }.count == 55 + 55 + 50 + 66)
        let opt = try run(graft, ["opt", "-"], input: text)
        #expect(opt.status == 0, "\(opt.stderr)")
        #expect(opt.stdout == text)
    }

    @Test func afterAllShowsEveryPass() throws {
        let dump = try run(try graftBinary(), ["dump", "byol-t", "--after-all"])
        #expect(dump.status == 0, "\(dump.stderr)")
        let headers = dump.stdout.split(separator: "\n").filter { $0.hasPrefix("// -----") }
        #expect(headers.map(String.init) == ["trace", "make-target", "autodiff", "lars", "ema", "constant-fold", "simplify", "cse", "dce",
                                                  "factor-reductions", "constant-fold", "simplify", "cse", "dce"]
            .map { "// ----- IR after \($0) ----- //" })
    }

    @Test func optRunsNamedPasses() throws {
        let text = """
            graph @g(%x: f32[3]) -> (f32[]) {
              param @w : f32[3] {init = zeros, role = weight}
              %0 = mul(@w, %x) : f32[3]
              %1 = reduce_sum(%0) {axes = [0]} : f32[]
              return %1 : f32[]
            }

            """
        let graft = try graftBinary()
        let result = try run(graft, ["opt", "-", "--passes", "autodiff,sgd,dce"], input: text)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("assign @w, "))
        #expect(result.stdout.contains("%learning_rate: f32[]"))
        let unknown = try run(graft, ["opt", "-", "--passes", "autodiff,frobnicate"], input: text)
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("unknown pass 'frobnicate'"))
        // A pass that takes a number: the mean over 2 replicas' batch is an all_reduce of the
        // local mean.
        let crossReplica = try run(graft, ["opt", "-", "--passes", "cross-replica-statistics=2"], input: text)
        #expect(crossReplica.status == 0, "\(crossReplica.stderr)")
        #expect(crossReplica.stdout.contains("all_reduce("), "\(crossReplica.stdout)")
        for bad in ["cross-replica-statistics", "cross-replica-statistics=0", "cross-replica-statistics=two"] {
            let refused = try run(graft, ["opt", "-", "--passes", bad], input: text)
            #expect(refused.status != 0 && refused.stderr.contains("cross-replica-statistics=N with N ≥ 1"), "\(bad): \(refused.stderr)")
        }
    }

    /// `graft opt` resumes an autodiff dump: roles travel in the text, so LARS decays exactly
    /// the params whose role is weight (not BatchNorm's scale and offset, not biases), and the
    /// result is the in-process optimized stage.
    @Test func optResumesAnAutodiffDumpWithLARSAndItsExclusions() throws {
        let graft = try graftBinary()
        let autodiff = try run(graft, ["dump", "byol-t", "--stage", "autodiff", "--batch-size", "4"])
        #expect(autodiff.status == 0, "\(autodiff.stderr)")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("graft-autodiff-\(UUID().uuidString).gir")
        try autodiff.stdout.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }

        let opt = try run(graft, ["opt", file.path, "--passes", "lars,ema,constant-fold,simplify,cse,dce,factor-reductions,constant-fold,simplify,cse,dce"])
        #expect(opt.status == 0, "\(opt.stderr)")
        let optimized = try run(graft, ["dump", "byol-t", "--stage", "optimized", "--batch-size", "4"])
        #expect(opt.stdout == optimized.stdout)

        // Params by role, from the declarations; decayed params, from `mul(@p, %c)` with %c
        // the constant 1.5e-06 (BYOL's weight decay).
        let lines = opt.stdout.split(separator: "\n").map(String.init)
        func params(role: String) -> Set<String> {
            Set(lines.filter { $0.hasPrefix("  param @") && $0.contains("role = \(role)") }.map { String($0.dropFirst(9).prefix { $0 != " " }) })
        }
        let decayConstants = Set(lines.filter { $0.contains("= constant() {value = 1.5e-06}") }.map { String($0.dropFirst(2).prefix { $0 != " " }) })
        let decayed = Set(lines.compactMap { line -> String? in
            guard let range = line.range(of: "= mul(@") else { return nil }
            let operands = line[range.upperBound...].prefix { $0 != ")" }.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            return operands.count == 2 && decayConstants.contains(operands[1]) ? operands[0] : nil
        })
        let (weights, normalization, biases) = (params(role: "weight"), params(role: "normalization"), params(role: "bias"))
        #expect(weights.contains("online.encoder.stem.conv.weight") && normalization.contains("online.encoder.stem.bn.weight"))
        #expect(!normalization.isEmpty && !biases.isEmpty)
        #expect(decayed == weights, "decayed but not weights: \(decayed.subtracting(weights).sorted()); weights not decayed: \(weights.subtracting(decayed).sorted())")
    }

    /// Passes run in the wrong order say what to run first, located, and do not call it a bug.
    @Test(arguments: [("traced", "lars", "run autodiff first"), ("autodiff", "autodiff", "autodiff runs once"),
                      ("autodiff", "make-target", "make-target runs once"), ("optimized", "ema", "ema runs once"),
                      ("optimized", "lars", "already updated")])
    func optReportsPassesRunOutOfOrder(stage: String, pass: String, phrase: String) throws {
        let graft = try graftBinary()
        let dump = try run(graft, ["dump", "byol-t", "--stage", stage, "--batch-size", "2"])
        let opt = try run(graft, ["opt", "-", "--passes", pass], input: dump.stdout)
        #expect(opt.status != 0)
        #expect(opt.stderr.contains("error: \(pass): ") && opt.stderr.contains(phrase), "\(opt.stderr)")
        #expect(!opt.stderr.contains("bug in Graft"))
    }

    @Test func backendStagesPrintKernelsPlanIRAndAssembly() throws {
        let graft = try graftBinary()
        let fused = try run(graft, ["dump", "byol-t", "--stage", "fused", "--batch-size", "4"])
        #expect(fused.status == 0, "\(fused.stderr)")
        #expect(fused.stdout.hasPrefix("fusion @byol_t: "))
        #expect(fused.stdout.contains("kernel #0 blas -> %0 : f32[4,16,28,28]"))
        #expect(fused.stdout.contains(" reduce -> "))
        let planned = try run(graft, ["dump", "byol-t", "--stage", "planned", "--batch-size", "4"])
        #expect(planned.status == 0)
        #expect(planned.stdout.hasPrefix("memory plan @byol_t: arena peak "))
        #expect(planned.stdout.contains("params and state: 148 values"))
        let llvm = try run(graft, ["dump", "byol-t", "--stage", "llvm", "--batch-size", "4"])
        #expect(llvm.status == 0, "\(llvm.stderr)")
        #expect(llvm.stdout.contains("define void @graft_k0(float**"))
        #expect(llvm.stdout.contains("<16 x float>"))   // 512-bit vectors
        // The legend names each function's kernels (numbered as in --stage fused), the
        // generated convolution products and, on an AVX-512 host, the Winograd loops of the
        // 3×3 stride-1 layers (the 1-channel stem keeps im2col and a product).
        #expect(llvm.stdout.hasPrefix("; @graft_k0: kernel"))
        #expect(llvm.stdout.contains("(reduce -> f32[16])"))
        if llvm.stdout.contains("+avx512f") {
            #expect(llvm.stdout.contains(": convolution product gemm_bcast_m16n784r9s9x1"))
            #expect(llvm.stdout.contains(": Winograd input c16o16h28w28"))
            #expect(!llvm.stdout.contains(": im2col c16h28w28k3x3s1x1p1x1"))
        }
        let asm = try run(graft, ["dump", "byol-t", "--stage", "asm", "--batch-size", "4"])
        #expect(asm.status == 0, "\(asm.stderr)")
        #expect(asm.stdout.contains("graft_k0:"))
        #expect(asm.stdout.contains("zmm"))
        let picture = try run(graft, ["dump", "byol-t", "--stage", "fused", "--format", "dot", "--batch-size", "4"])
        #expect(picture.status == 0, "\(picture.stderr)")
        // One node per kernel, no clusters (Graphviz could not rank byol-t's kernels as
        // clusters); Graphviz renders it in `fusedDotRendersWithGraphviz`.
        let kernelCount = fused.stdout.split(separator: "\n").filter { $0.hasPrefix("kernel #") }.count
        #expect(picture.stdout.split(separator: "\n").filter { $0.hasPrefix("  k") && $0.contains(" [label=") }.count == kernelCount)
        #expect(!picture.stdout.contains("subgraph"))
        #expect(picture.stdout.contains("k0 [label=\"#0 blas -> %0 : f32[4,16,28,28]\\lconv2d\\l\"];"))
        let detailed = try run(graft, ["dump", "byol-t", "--stage", "fused", "--format", "dot", "--dot-detail", "--batch-size", "4"])
        #expect(detailed.status == 0, "\(detailed.stderr)")
        #expect(detailed.stdout.contains("k0 [label=\"#0 blas -> %0 : f32[4,16,28,28]\\l%0 = conv2d : f32[4,16,28,28]\\l\"];"))
        let misplaced = try run(graft, ["dump", "byol-t", "--dot-detail"])
        #expect(misplaced.status != 0)
        #expect(misplaced.stderr.contains("--dot-detail applies to the fused DOT picture only"))
    }

    /// byol-t's fused plan at its reference batch (598 kernels) renders with Graphviz, plain
    /// and detailed, in well under a minute (measured: seconds; clusters did not render).
    @Test func fusedDotRendersWithGraphviz() throws {
        let dot = try #require(which("dot"), "Graphviz's dot is not installed: run `make deps`")
        for flags in [[String](), ["--dot-detail"]] {
            let dump = try run(try graftBinary(), ["dump", "byol-t", "--stage", "fused", "--format", "dot"] + flags)
            #expect(dump.status == 0, "\(dump.stderr)")
            let start = Date()
            let svg = try run(dot, ["-Tsvg"], input: dump.stdout)
            let seconds = Date().timeIntervalSince(start)
            #expect(svg.status == 0, "\(svg.stderr)")
            #expect(svg.stdout.contains("<svg"))
            #expect(svg.stdout.contains("conv2d_filter_grad"))
            #expect(seconds < 60, "dot -Tsvg took \(seconds) s on byol-t's fused plan \(flags)")
        }
    }

    /// `graft opt --stage` lowers any IR text, here a hand-written graph, through the same
    /// backend pipeline as `dump` and `Executable`.
    @Test(arguments: ["fused", "planned", "llvm", "asm"])
    func optLowersAHandWrittenGraph(stage: String) throws {
        let text = """
            graph @hand(%x: f32[64,40], %w: f32[40,16]) -> (f32[64,16]) {
              %0 = tanh(%x) : f32[64,40]
              %1 = matmul(%0, %w) {transpose_a = false, transpose_b = false} : f32[64,16]
              %2 = relu(%1) : f32[64,16]
              return %2 : f32[64,16]
            }
            """
        let result = try run(try graftBinary(), ["opt", "-", "--stage", stage], input: text)
        #expect(result.status == 0, "\(result.stderr)")
        switch stage {
        case "fused":
            #expect(result.stdout.hasPrefix("fusion @hand: 3 kernels (1 BLAS contractions, 0 reductions, 2 elementwise loops)"))
            #expect(result.stdout.contains("kernel #1 blas -> %1 : f32[64,16]  reads (%0, %w)"))
        case "planned":
            #expect(result.stdout.hasPrefix("memory plan @hand: arena peak "))
        case "llvm":
            #expect(result.stdout.hasPrefix("; @graft_k0: kernel #0 (loop -> f32[64,40])\n; @graft_k1: kernel #2 (loop -> f32[64,16])"))
            #expect(result.stdout.contains("call float @tanhf(float"))
            #expect(result.stdout.contains("define void @graft_k1(float**"))
        default:
            #expect(result.stdout.contains("graft_k0:"))
            #expect(result.stdout.contains("tanhf"))
        }
    }

    @Test func benchPrintsEveryFigureAsJSON() throws {
        let result = try run(try graftBinary(), ["bench", "byol-t", "--steps", "1", "--batch-size", "2", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        for key in ["step_seconds", "images_per_second", "step_gflops", "sgemm_gflops", "ceiling_share", "peak_gflops", "peak_share", "peak_gflops_1_thread", "compile_seconds", "peak_bytes", "blas_core"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect((object["ceiling_share"] as? Double ?? 0) > 0)
        #expect((object["peak_share"] as? Double ?? 0) > 0)
        #expect(!(object["blas_core"] as? String ?? "").isEmpty)
    }

    @Test func dotOutputRendersWithGraphviz() throws {
        let dot = try #require(which("dot"), "Graphviz's dot is not installed: run `make deps`")
        let dump = try run(try graftBinary(), ["dump", "byol-t", "--format", "dot"])
        #expect(dump.status == 0)
        let svg = try run(dot, ["-Tsvg"], input: dump.stdout)
        #expect(svg.status == 0, "\(svg.stderr)")
        #expect(svg.stdout.contains("<svg"))
        #expect(svg.stdout.contains("conv2d"))
    }

    /// A whole training step (2,499 nodes, activations read again hundreds of ranks later)
    /// gets the large-graph layout: straight unlabelled edges, capped x-coordinate search;
    /// Graphviz lays it out in ~3 s (more than 2 minutes without).
    @Test func dotOfAWholeStepRendersWithGraphviz() throws {
        let dot = try #require(which("dot"), "Graphviz's dot is not installed: run `make deps`")
        let dump = try run(try graftBinary(), ["dump", "byol-t", "--stage", "optimized", "--format", "dot"])
        #expect(dump.status == 0, "\(dump.stderr)")
        #expect(dump.stdout.contains("graph [splines=false; nslimit="))
        #expect(!dump.stdout.split(separator: "\n").contains { $0.contains(" -> ") && $0.contains("[label=\"f32") })
        let svg = try run(dot, ["-Tsvg"], input: dump.stdout)
        #expect(svg.status == 0, "\(svg.stderr)")
        #expect(svg.stdout.contains("<svg") && svg.stdout.contains("conv2d_filter_grad"))
    }

    @Test func dumpShowsOneReplicasDataParallelStep() throws {
        let graft = try graftBinary()
        let dump = try run(graft, ["dump", "byol-t", "--replicas", "2", "--after-all"])
        #expect(dump.status == 0, "\(dump.stderr)")
        #expect(dump.stdout.contains("// ----- IR after cross-replica-statistics ----- //"))
        #expect(dump.stdout.contains("// ----- IR after gradient-all-reduce ----- //"))
        #expect(dump.stdout.contains("graph @byol_t(%view1: f32[64,1,28,28]"))
        #expect(dump.stdout.contains("all_reduce("))
        let uneven = try run(graft, ["dump", "byol-t", "--replicas", "3"])
        #expect(uneven.status != 0)
        #expect(uneven.stderr.contains("--replicas 3 does not divide the batch size 128"), "\(uneven.stderr)")
    }

    @Test func optReportsMalformedTextWithItsLocationAndFails() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("graft-bad-\(UUID().uuidString).gir")
        try "graph @g(%x: f32[2]) -> (f32[2]) {\n  %0 = frobnicate(%x) : f32[2]\n  return %0 : f32[2]\n}\n"
            .write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try run(try graftBinary(), ["opt", file.path])
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "\(file.path):2:8: error: unknown op 'frobnicate'\n")
    }

    @Test func optReportsAMissingFile() throws {
        let result = try run(try graftBinary(), ["opt", "/nonexistent/model.gir"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("/nonexistent/model.gir: cannot open the IR file"))
    }

    @Test func dumpRejectsAnUnknownModelAndBadFlags() throws {
        let graft = try graftBinary()
        let unknown = try run(graft, ["dump", "resnet-9000"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("unknown model 'resnet-9000'"))
        #expect(unknown.stderr.contains("byol-s"))
        let stage = try run(graft, ["dump", "byol-t", "--stage", "lowered"])
        #expect(stage.status != 0)
        #expect(stage.stderr.contains("traced, autodiff, optimized, fused, planned, llvm, asm"))
        let batch = try run(graft, ["dump", "byol-t", "--batch-size", "0"])
        #expect(batch.status != 0)
        #expect(batch.stderr.contains("--batch-size must be between 1 and 65536, got 0"))
    }

    @Test func trainRejectsBadFlagsBeforeLoadingAnything() throws {
        let graft = try graftBinary()
        let cases: [([String], String)] = [
            (["--lr", "0"], "--lr must be a finite number in (0.0, 1000000.0], got 0.0"),
            (["--tau-base", "1.5"], "--tau-base must be a finite number in [0.0, 1.0], got 1.5"),
            (["--min-crop-scale", "0"], "--min-crop-scale must be a finite number in (0.0, 1.0], got 0.0"),
            (["--weight-decay=-1e-5"], "--weight-decay must be a finite number in [0.0, 1.0], got -1e-05"),
            (["--epochs", "0"], "--epochs must be between 1 and 1000000, got 0"),
            (["--batch-size", "1"], "--batch-size must be between 2 and 65536, got 1"),
        ]
        for (flags, message) in cases {
            let result = try run(graft, ["train", "byol-t", "--data", "/nonexistent"] + flags)
            #expect(result.status != 0, "\(flags)")
            #expect(result.stderr.contains(message), "\(flags): \(result.stderr)")
        }
    }
}

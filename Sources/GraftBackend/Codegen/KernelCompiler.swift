// KernelCompiler: lowers every loop kernel of a fusion plan (and the im2col/col2im loops its
// convolutions need) to one LLVM module, compiles it once, and hands back function pointers.
//
// Kernels with the same structure (the same ops on the same shapes; online and target, view
// one and view two) produce the same function text and are compiled once: the cache key is the
// text itself, so it cannot confuse two kernels that differ in anything.

import Foundation
import GraftIR
import GraftPasses

/// A compiled loop: `args` points at the buffers (output first), [begin, end) the elements.
public typealias KernelFunction = @convention(c) (UnsafeMutablePointer<UnsafeMutablePointer<Float>>, Int64, Int64) -> Void

/// The compiled code of a fusion plan.
public struct CompiledKernels: @unchecked Sendable {
    /// The function of each kernel of the plan (nil for BLAS contractions).
    public var loops: [KernelFunction?]
    /// The im2col and col2im loops of each convolution geometry.
    public var im2col: [ConvolutionGeometry: KernelFunction]
    public var col2im: [ConvolutionGeometry: KernelFunction]
    /// The generated matrix products of the convolutions (absent ones run on the BLAS).
    public var products: [ConvolutionProduct: KernelFunction]
    /// The Winograd forms of the 3×3 stride-1 convolutions (none without AVX-512).
    public var winograd: [WinogradConvolution: WinogradFunctions]
    public var winogradFilterGradients: [WinogradFilterGradient: WinogradFilterGradientFunctions]
    /// The module of the functions this plan added to the cache, as handed to LLVM and after O3
    /// (empty when every kernel was cached already; the latter only when asked for).
    public var sourceIR: String
    public var optimizedIR: String
    /// Distinct functions compiled (after sharing identical kernels).
    public var distinctFunctions: Int
    /// What each function computes, one comment line per function (`; @graft_k3: kernels #2, #9
    /// (loop -> f32[128,16,28,28])`), printed above `--stage llvm|asm`.
    public var legend: String
}

public enum KernelCompiler {
    /// The function text of each kernel of `plan` (nil for contractions), with the name
    /// `KERNEL`, the convolution geometries whose im2col/col2im the plan needs, the generated
    /// matrix products and Winograd forms (none without `vectorProducts`: they are written for AVX-512).
    static func functionBodies(for plan: FusionPlan, vectorProducts: Bool)
        -> (bodies: [String?], declarations: Set<String>, geometries: Set<ConvolutionGeometry>, products: Set<ConvolutionProduct>,
            winograd: Set<WinogradConvolution>, filterGradients: Set<WinogradFilterGradient>) {
        var declarations: Set<String> = []
        var geometries: Set<ConvolutionGeometry> = []
        var products: Set<ConvolutionProduct> = []
        var winograd: Set<WinogradConvolution> = []
        var filterGradients: Set<WinogradFilterGradient> = []
        var bodies: [String?] = []
        for kernel in plan.kernels {
            guard kernel.kind != .contraction else {
                if case .convolution(let geometry, let direction, _) = plan.graph.contraction(of: kernel.root) {
                    if vectorProducts, let form = WinogradConvolution.of(direction, geometry: geometry) {
                        winograd.insert(form)
                        products.insert(form.product)
                    } else if vectorProducts, let form = WinogradFilterGradient.of(direction, geometry: geometry) {
                        filterGradients.insert(form)
                        products.insert(form.product)
                    } else {
                        geometries.insert(geometry)   // im2col and col2im
                        if vectorProducts, let product = ConvolutionProduct.of(direction, geometry: geometry) { products.insert(product) }
                    }
                }
                bodies.append(nil)
                continue
            }
            var emitter = LoopEmitter(graph: plan.graph, kernel: kernel)
            bodies.append(emitter.emitFunction(named: "KERNEL"))
            declarations.formUnion(emitter.declarations)
        }
        if geometries.contains(where: { !$0.isPointwise }) { declarations.formUnion(ConvolutionKernels.declarations) }
        if !products.isEmpty { declarations.formUnion(ConvolutionProduct.declarations) }
        if !winograd.isEmpty { declarations.formUnion(WinogradConvolution.declarations) }
        if !filterGradients.isEmpty { declarations.formUnion(WinogradFilterGradient.declarations) }
        return (bodies, declarations, geometries, products, winograd, filterGradients)
    }
}

/// Compiled kernels of every executable in the process, keyed by their function text: a kernel
/// that another step (or another part of this one) already compiled is not compiled again.
public final class KernelCache: @unchecked Sendable {
    public let jit: LLVMJIT
    private var functions: [String: (name: String, function: KernelFunction)] = [:]
    private let lock = NSLock()

    public init(jit: LLVMJIT) {
        self.jit = jit
    }

    /// Compiles what `plan` needs that is not cached yet and returns the functions of all its
    /// kernels; with `keepingOptimizedIR`, also the optimised IR text (`--stage llvm`).
    public func compile(_ plan: FusionPlan, keepingOptimizedIR: Bool = false) throws -> CompiledKernels {
        lock.lock()
        defer { lock.unlock() }
        let (bodies, declarations, geometries, products, winograd, filterGradients) = KernelCompiler.functionBodies(
            for: plan, vectorProducts: jit.cpuFeatures.split(separator: ",").contains("+avx512f"))
        var convolutionBodies: [(ConvolutionGeometry, String, String)] = []   // geometry, im2col, col2im
        for geometry in geometries.sorted(by: { $0.suffix < $1.suffix }) where !geometry.isPointwise {
            convolutionBodies.append((geometry, ConvolutionKernels.im2col(geometry).text, ConvolutionKernels.col2im(geometry).text))
        }
        // Name every function text not compiled yet.
        var pending: [String: String] = [:]   // text -> name
        var sources: [String] = []
        func name(for text: String, placeholder: String) -> String {
            if let cached = functions[text] { return cached.name }
            if let queued = pending[text] { return queued }
            let name = "graft_k\(functions.count + pending.count)"
            pending[text] = name
            sources.append(text.replacingOccurrences(of: "@\(placeholder)(", with: "@\(name)("))
            return name
        }
        let loopNames = bodies.map { $0.map { name(for: $0, placeholder: "KERNEL") } }
        var convolutionNames: [(ConvolutionGeometry, String, String)] = []
        for (geometry, im2col, col2im) in convolutionBodies {
            convolutionNames.append((geometry, name(for: im2col, placeholder: ConvolutionKernels.im2col(geometry).name),
                                     name(for: col2im, placeholder: ConvolutionKernels.col2im(geometry).name)))
        }
        let productNames = products.sorted { $0.name < $1.name }.map { product in
            let (placeholder, text) = product.function()
            return (product, name(for: text, placeholder: placeholder))
        }
        let winogradNames = winograd.sorted { $0.suffix < $1.suffix }.map { form in
            (form, form.functions().map { name(for: $0.text, placeholder: $0.name) })
        }
        let filterGradientNames = filterGradients.sorted { $0.suffix < $1.suffix }.map { form in
            (form, form.functions().map { name(for: $0.text, placeholder: $0.name) })
        }
        func module(_ sources: [String]) -> String {
            (["; Graft kernels of @\(plan.graph.name)"] + declarations.sorted() + sources
                + ["attributes #0 = { nounwind }", LoopEmitter.aliasMetadata]).joined(separator: "\n\n") + "\n"
        }
        let moduleText = module(sources)
        var optimized = ""
        if !sources.isEmpty {
            // One module per core, compiled at once, their functions dealt out largest first.
            let parts = KernelCache.partition(sources, into: Swift.min(KernelCache.compileThreads, sources.count))
            let name = "graft_\(plan.graph.name)_\(functions.count)"
            optimized = try jit.add(modules: parts.enumerated().map { (module($0.element), "\(name)_\($0.offset)") },
                                    keepingText: keepingOptimizedIR).joined(separator: "\n")
            for (text, name) in pending {
                functions[text] = (name, unsafeBitCast(try jit.address(of: name), to: KernelFunction.self))
            }
        }
        var byName: [String: KernelFunction] = [:]
        for entry in functions.values { byName[entry.name] = entry.function }
        var im2col: [ConvolutionGeometry: KernelFunction] = [:], col2im: [ConvolutionGeometry: KernelFunction] = [:]
        for (geometry, gather, scatter) in convolutionNames {
            im2col[geometry] = byName[gather]
            col2im[geometry] = byName[scatter]
        }
        var productFunctions: [ConvolutionProduct: KernelFunction] = [:]
        for (product, name) in productNames { productFunctions[product] = byName[name] }
        var winogradFunctions: [WinogradConvolution: WinogradFunctions] = [:]
        for (form, names) in winogradNames {
            let f = names.map { byName[$0]! }
            winogradFunctions[form] = WinogradFunctions(convolution: form, weights: f[0], pack: f[1], input: f[2], output: f[3],
                                                        unpack: f[4], product: productFunctions[form.product]!)
        }
        var filterGradientFunctions: [WinogradFilterGradient: WinogradFilterGradientFunctions] = [:]
        for (form, names) in filterGradientNames {
            let f = names.map { byName[$0]! }
            filterGradientFunctions[form] = WinogradFilterGradientFunctions(
                gradient: form, pack: f[0], input: f[1], gradientPack: f[2], gradientTransform: f[3], filter: f[4],
                product: productFunctions[form.product]!)
        }
        let winogradLegend = winogradNames.map { form, names in
            (form.suffix, Array(zip(["weights", "pack", "input", "output", "unpack"], names)))
        } + filterGradientNames.map { form, names in
            (form.suffix, Array(zip(["pack", "input", "dy pack", "dy transform", "filter gradient"], names)))
        }
        return CompiledKernels(loops: loopNames.map { $0.flatMap { byName[$0] } }, im2col: im2col, col2im: col2im,
                               products: productFunctions, winograd: winogradFunctions, winogradFilterGradients: filterGradientFunctions,
                               sourceIR: moduleText, optimizedIR: optimized,
                               distinctFunctions: Set(loopNames.compactMap { $0 } + winogradLegend.flatMap { $0.1.map(\.1) }).count
                                   + 2 * im2col.count + productFunctions.count,
                               legend: KernelCache.legend(plan, loopNames: loopNames, convolutionNames: convolutionNames, productNames: productNames,
                                                          winogradNames: winogradLegend))
    }

    /// Threads that compile a step's kernels: one per core.
    static let compileThreads = Swift.max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// `sources` dealt into `count` groups of about equal text (a proxy for compile time),
    /// the longest first, each group keeping the functions' order.
    static func partition(_ sources: [String], into count: Int) -> [[String]] {
        var groups = [[Int]](repeating: [], count: count), sizes = [Int](repeating: 0, count: count)
        for index in sources.indices.sorted(by: { sources[$0].utf8.count > sources[$1].utf8.count }) {
            let smallest = sizes.indices.min { sizes[$0] < sizes[$1] }!
            groups[smallest].append(index)
            sizes[smallest] += sources[index].utf8.count
        }
        return groups.filter { !$0.isEmpty }.map { $0.sorted().map { sources[$0] } }
    }

    /// One comment line per function: the plan's kernels it runs, or the convolution part it is.
    static func legend(_ plan: FusionPlan, loopNames: [String?], convolutionNames: [(ConvolutionGeometry, String, String)],
                       productNames: [(ConvolutionProduct, String)], winogradNames: [(String, [(String, String)])]) -> String {
        var kernelsOf: [String: [Int]] = [:]
        var order: [String] = []
        for (index, name) in loopNames.enumerated() {
            guard let name else { continue }
            if kernelsOf[name] == nil { order.append(name) }
            kernelsOf[name, default: []].append(index)
        }
        var lines = order.map { name in
            let indices = kernelsOf[name]!
            let kernel = plan.kernels[indices[0]]
            let kind = kernel.kind == .reduction ? "reduce" : "loop"
            return "; @\(name): kernel\(indices.count > 1 ? "s" : "") " + indices.map { "#\($0)" }.joined(separator: ", ")
                + " (\(kind) -> \(plan.graph[kernel.root].type))"
        }
        for (geometry, gather, scatter) in convolutionNames {
            lines.append("; @\(gather): im2col \(geometry.suffix)")
            lines.append("; @\(scatter): col2im \(geometry.suffix)")
        }
        for (product, name) in productNames { lines.append("; @\(name): convolution product \(product.name)") }
        var listed: Set<String> = []
        for (suffix, parts) in winogradNames {
            for (part, name) in parts where listed.insert(name).inserted {
                lines.append("; @\(name): Winograd \(part) \(suffix)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

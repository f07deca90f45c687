// LLVMJIT: compiles textual LLVM IR for the host CPU with LLVM's ORC LLJIT and hands back
// function addresses. Kernels arrive as IR text; each `add` optimises one module at -O3
// (without LLVM's own loop unrolling) with 512-bit vectors preferred and links it into one JIT dylib, which also resolves
// symbols of the running process (libc, libm, OpenBLAS once loaded).
import CLLVM
import Dispatch
import GraftIR

/// A JIT compiler for textual LLVM IR, targeting the host CPU.
///
/// ```swift
/// let jit = try LLVMJIT()
/// try jit.add(module: irText, name: "kernels")
/// let f = unsafeBitCast(try jit.address(of: "k0"),
///                       to: (@convention(c) (UnsafeMutableRawPointer, Int64, Int64) -> Void).self)
/// ```
///
/// IR is read by LLVM 14's parser: pointers are typed (`float*`, `i8*`); the opaque `ptr`
/// syntax is rejected. Every defined function gets the host's `"target-cpu"` and
/// `"target-features"` and `"prefer-vector-width"="512"` (LLVM 14 otherwise prefers 256-bit
/// vectors on AVX-512 CPUs). Float reductions vectorize only when the IR allows
/// reassociation (`fadd reassoc nsz` or `fadd fast`).
///
/// Each added module lives in its own LLVM context, and LLJIT is thread-safe, so `add`,
/// `address(of:)` and `assembly(for:)` may be called from several threads. Compiled code
/// stays valid until the `LLVMJIT` is deinitialised.
public final class LLVMJIT: @unchecked Sendable {
    /// LLVM's name for the host CPU (e.g. `icelake-client`), written into every function.
    public let cpuName: String
    /// The host's LLVM feature string (e.g. `+avx512f,…`), written into every function.
    public let cpuFeatures: String

    /// Where `add(modules:keepingText:)` keeps object code between processes (nil: nowhere).
    public let objectCache: ObjectCache?

    private let host: HostTarget
    private let jit: LLVMOrcLLJITRef
    /// The data layout every module gets; it is the JIT's own, so `add` never mismatches.
    private let dataLayout: String

    /// Creates an LLJIT for the host: initialises the native target (once per process),
    /// reads the host triple, CPU name and features, and lets JIT code call functions of
    /// the running process.
    ///
    /// - Throws: `Diagnostic` with LLVM's message if the JIT cannot be created.
    /// - Parameter objectCache: where compiled kernel modules are kept between processes
    ///   (by default as `GRAFT_KERNEL_CACHE` or `~/.cache/graft/kernels` says; nil for none).
    public init(objectCache: ObjectCache? = ObjectCache.fromEnvironment()) throws {
        self.objectCache = objectCache
        host = try HostTarget()
        cpuName = host.cpuName
        cpuFeatures = host.cpuFeatures

        // Ownership: the JIT target-machine builder consumes the target machine, the LLJIT
        // builder consumes the JIT target-machine builder, and LLVMOrcCreateLLJIT consumes
        // the LLJIT builder (even when it fails).
        let machine = try host.makeTargetMachine(forJIT: true)
        let machineBuilder = LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(machine)
        let builder = LLVMOrcCreateLLJITBuilder()
        LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(builder, machineBuilder)
        var created: LLVMOrcLLJITRef?
        try checkLLVM(LLVMOrcCreateLLJIT(&created, builder), "LLVM could not create the JIT")
        guard let created else { throw Diagnostic("LLVM could not create the JIT") }
        jit = created
        dataLayout = String(cString: LLVMOrcLLJITGetDataLayoutStr(created))

        var generator: LLVMOrcDefinitionGeneratorRef?
        do {
            try checkLLVM(
                LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
                    &generator, LLVMOrcLLJITGetGlobalPrefix(created), nil, nil),
                "LLVM could not expose the process's symbols to the JIT")
        } catch {
            LLVMConsumeError(LLVMOrcDisposeLLJIT(created))
            throw error
        }
        LLVMOrcJITDylibAddGenerator(LLVMOrcLLJITGetMainJITDylib(created), generator)  // takes it
    }

    deinit {
        LLVMConsumeError(LLVMOrcDisposeLLJIT(jit))
    }

    /// Compiles a module of textual LLVM IR and adds it to the JIT.
    ///
    /// Parses `irText` (`LLVMParseIRInContext`), sets the module's triple and data layout to
    /// the host's, gives every defined function the attributes `"target-cpu"`,
    /// `"target-features"` and `"prefer-vector-width"="512"`, verifies it, optimises it
    /// with `default<O3>` (less unrolling: see `optimise`) for the host target machine and adds it to the JIT. Machine code
    /// is generated lazily, at the first `address(of:)` lookup of one of its symbols.
    ///
    /// - Parameters:
    ///   - irText: a complete module in LLVM 14's textual syntax (typed pointers).
    ///   - name: the module's identifier, shown in LLVM's messages.
    /// - Returns: the optimised module as IR text.
    /// - Throws: `Diagnostic` with LLVM's message for a parse error, a verifier failure, an
    ///   optimisation failure, or a symbol the JIT already defines.
    @discardableResult
    public func add(module irText: String, name: String) throws -> String {
        let context = LLVMOrcCreateNewThreadSafeContext()
        // The thread-safe module below keeps its own reference to the context.
        defer { LLVMOrcDisposeThreadSafeContext(context) }
        guard let llvmContext = LLVMOrcThreadSafeContextGetContext(context) else {
            throw Diagnostic("LLVM could not create a context for module '\(name)'")
        }
        let module = try makeOptimisedModule(irText, name: name, in: llvmContext)
        let optimised = takeLLVMString(LLVMPrintModuleToString(module))
        let safeModule = LLVMOrcCreateNewThreadSafeModule(module, context)  // takes `module`
        // LLVMOrcLLJITAddLLVMIRModule takes `safeModule`, whether it succeeds or not.
        try checkLLVM(
            LLVMOrcLLJITAddLLVMIRModule(jit, LLVMOrcLLJITGetMainJITDylib(jit), safeModule),
            "LLVM could not add module '\(name)' to the JIT")
        return optimised
    }

    /// Compiles several modules of textual IR at once, each on a thread of its own: parsed,
    /// prepared and optimised as `add(module:name:)` does, then compiled to machine code,
    /// whose object files are linked into the JIT. Compiling a step's kernels this way uses
    /// every core instead of one. Unless the optimised text is asked for, a module whose
    /// object code `objectCache` holds (compiled by an earlier process) is read from there,
    /// and new object code is stored there.
    ///
    /// - Parameter keepingText: return each module's optimised IR text (this compiles every
    ///   module; otherwise the texts are empty).
    /// - Returns: each module's optimised IR text, in order, or empty strings.
    /// - Throws: `Diagnostic` with LLVM's message for the first module that fails (none of
    ///   the modules is added then), or a symbol the JIT already defines.
    @discardableResult
    public func add(modules: [(irText: String, name: String)], keepingText: Bool = true) throws -> [String] {
        let cache = keepingText ? nil : objectCache
        let target = "\(cpuName)\n\(cpuFeatures)"
        let keys = modules.map { ObjectCache.key(module: $0.irText, target: target) }
        let results = ObjectCode(modules.count)
        for (index, key) in keys.enumerated() {
            if let object = cache?.load(key) { results.set(index, .success((optimised: "", object: object, cached: true))) }
        }
        let missing = modules.indices.filter { results.values[$0] == nil }
        DispatchQueue.concurrentPerform(iterations: missing.count) { position in
            let index = missing[position]
            results.set(index, Result { try self.objectCode(modules[index].irText, name: modules[index].name, keepingText: keepingText) })
        }
        defer { results.disposeUnlinked() }
        var compiled = try results.values.map { try $0!.get() }
        for index in compiled.indices {
            if !compiled[index].cached { cache?.store(compiled[index].object, as: keys[index]) }
            results.linked(index)
            // LLVMOrcLLJITAddObjectFile takes the buffer, whether it succeeds or not.
            let error = LLVMOrcLLJITAddObjectFile(jit, LLVMOrcLLJITGetMainJITDylib(jit), compiled[index].object)
            if error != nil, compiled[index].cached {
                // A cached file LLVM cannot read: compile the module again and replace the file.
                LLVMConsumeError(error)
                cache?.discard(keys[index])
                compiled[index] = try objectCode(modules[index].irText, name: modules[index].name, keepingText: false)
                cache?.store(compiled[index].object, as: keys[index])
                try checkLLVM(LLVMOrcLLJITAddObjectFile(jit, LLVMOrcLLJITGetMainJITDylib(jit), compiled[index].object),
                              "LLVM could not add the code of module '\(modules[index].name)' to the JIT")
                continue
            }
            try checkLLVM(error, "LLVM could not add the code of module '\(modules[index].name)' to the JIT")
        }
        return compiled.map(\.optimised)
    }

    /// `irText` compiled to an object file for the JIT, and optimised (its text, if kept).
    private func objectCode(_ irText: String, name: String, keepingText: Bool) throws -> CompiledModule {
        guard let context = LLVMContextCreate() else { throw Diagnostic("LLVM could not create a context for module '\(name)'") }
        defer { LLVMContextDispose(context) }
        let module = try makeOptimisedModule(irText, name: name, in: context)
        defer { LLVMDisposeModule(module) }
        let optimised = keepingText ? takeLLVMString(LLVMPrintModuleToString(module)) : ""
        let machine = try host.makeTargetMachine(forJIT: true)
        defer { LLVMDisposeTargetMachine(machine) }
        var buffer: LLVMMemoryBufferRef?
        var message: UnsafeMutablePointer<CChar>?
        guard LLVMTargetMachineEmitToMemoryBuffer(machine, module, LLVMObjectFile, &message, &buffer) == 0, let buffer else {
            throw Diagnostic("LLVM could not generate code for module '\(name)': \(takeLLVMString(message))")
        }
        return (optimised, buffer, false)
    }

    /// The address of a function compiled by the JIT (`LLVMOrcLLJITLookup`); compiles its
    /// module on first use.
    ///
    /// Cast it with `unsafeBitCast(_:to:)` to the matching `@convention(c)` function type.
    ///
    /// - Parameter symbol: the function's IR name, without the `@`.
    /// - Throws: `Diagnostic` with LLVM's message if no added module defines `symbol`, or if
    ///   code generation fails.
    public func address(of symbol: String) throws -> UnsafeRawPointer {
        var address: LLVMOrcExecutorAddress = 0
        try checkLLVM(LLVMOrcLLJITLookup(jit, &address, symbol), "LLVM could not find '\(symbol)'")
        guard let pointer = UnsafeRawPointer(bitPattern: UInt(address)) else {
            throw Diagnostic("LLVM resolved '\(symbol)' to a null address")
        }
        return pointer
    }

    /// The host assembly for a module of textual LLVM IR, prepared and optimised exactly
    /// as `add(module:name:)` would; nothing is added to the JIT.
    ///
    /// - Parameter irText: a complete module in LLVM 14's textual syntax.
    /// - Returns: AT&T-syntax assembly, as `llc` would print it.
    /// - Throws: `Diagnostic` with LLVM's message for bad IR or a code generation failure.
    public func assembly(for irText: String) throws -> String {
        guard let context = LLVMContextCreate() else { throw Diagnostic("LLVM could not create a context") }
        defer { LLVMContextDispose(context) }
        let module = try makeOptimisedModule(irText, name: "assembly", in: context)
        defer { LLVMDisposeModule(module) }
        // Code generation rewrites the module it runs on; emit from a copy.
        let copy = LLVMCloneModule(module)
        defer { LLVMDisposeModule(copy) }

        let machine = try host.makeTargetMachine()
        defer { LLVMDisposeTargetMachine(machine) }
        var buffer: LLVMMemoryBufferRef?
        var message: UnsafeMutablePointer<CChar>?
        guard LLVMTargetMachineEmitToMemoryBuffer(machine, copy, LLVMAssemblyFile, &message, &buffer) == 0,
              let buffer
        else { throw Diagnostic("LLVM could not emit assembly: \(takeLLVMString(message))") }
        defer { LLVMDisposeMemoryBuffer(buffer) }
        let start = UnsafeRawPointer(LLVMGetBufferStart(buffer)!)
        let bytes = UnsafeRawBufferPointer(start: start, count: LLVMGetBufferSize(buffer))
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: - Preparing a module

    /// Parses, prepares, verifies and optimises `irText` into a module owned by the caller.
    private func makeOptimisedModule(
        _ irText: String, name: String, in context: LLVMContextRef
    ) throws -> LLVMModuleRef {
        let module = try parse(irText, name: name, in: context)
        do {
            LLVMSetTarget(module, host.triple)
            LLVMSetDataLayout(module, dataLayout)
            addHostAttributes(to: module, in: context)
            try verify(module, name: name)
            try optimise(module, name: name)
            return module
        } catch {
            LLVMDisposeModule(module)
            throw error
        }
    }

    /// Parses textual IR; LLVM's parser message (`name:line:column: error: …`) becomes the
    /// diagnostic.
    private func parse(_ irText: String, name: String, in context: LLVMContextRef) throws -> LLVMModuleRef {
        // The copy is NUL-terminated, as the IR lexer requires.
        let buffer = irText.withCString { text in
            LLVMCreateMemoryBufferWithMemoryRangeCopy(text, irText.utf8.count, name)
        }
        var module: LLVMModuleRef?
        var message: UnsafeMutablePointer<CChar>?
        // LLVMParseIRInContext takes ownership of `buffer`, whether it succeeds or not.
        guard LLVMParseIRInContext(context, buffer, &module, &message) == 0, let module else {
            let report = takeLLVMString(message)
            throw Diagnostic("LLVM could not parse module '\(name)': \(report.trimmingTrailingNewlines)")
        }
        LLVMDisposeMessage(message)
        LLVMSetModuleIdentifier(module, name, name.utf8.count)
        return module
    }

    /// Gives every function defined in `module` the host CPU, its features and 512-bit
    /// vectors, replacing any values the IR text set.
    private func addHostAttributes(to module: LLVMModuleRef, in context: LLVMContextRef) {
        let pairs: [(key: String, value: String)] = [
            ("target-cpu", cpuName), ("target-features", cpuFeatures), ("prefer-vector-width", "512"),
        ]
        let attributes = pairs.map { pair -> LLVMAttributeRef? in
            LLVMCreateStringAttribute(
                context, pair.key, UInt32(pair.key.utf8.count), pair.value, UInt32(pair.value.utf8.count))
        }
        // LLVMAttributeFunctionIndex is ~0U in C but arrives in Swift as the Int -1.
        let functionIndex = LLVMAttributeIndex(bitPattern: Int32(truncatingIfNeeded: LLVMAttributeFunctionIndex))
        var function = LLVMGetFirstFunction(module)
        while let current = function {
            if LLVMIsDeclaration(current) == 0 {
                for attribute in attributes { LLVMAddAttributeAtIndex(current, functionIndex, attribute) }
            }
            function = LLVMGetNextFunction(current)
        }
    }

    /// Runs LLVM's verifier; its report becomes the diagnostic.
    private func verify(_ module: LLVMModuleRef, name: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let failed = LLVMVerifyModule(module, LLVMReturnStatusAction, &message) != 0
        let report = takeLLVMString(message)
        if failed { throw Diagnostic("LLVM rejected module '\(name)': \(report.trimmingTrailingNewlines)") }
    }

    /// Optimises with the new pass manager's `default<O3>` pipeline, tuned for the host,
    /// without LLVM's heuristic loop unrolling (a loop whose metadata asks for unrolling is
    /// still unrolled). Graft's kernels are written unrolled where it pays (the register tiles
    /// of the convolution products, the Winograd transforms, the im2col taps), and the loop
    /// vectorizer still interleaves its vector loops; LLVM unrolling the rest made the code
    /// 3× slower to compile (optimisation, then loop strength reduction and instruction
    /// scheduling on the unrolled bodies) and no faster (Docs/Performance.md, row 20).
    private func optimise(_ module: LLVMModuleRef, name: String) throws {
        let machine = try host.makeTargetMachine()
        defer { LLVMDisposeTargetMachine(machine) }
        let options = LLVMCreatePassBuilderOptions()
        defer { LLVMDisposePassBuilderOptions(options) }
        LLVMPassBuilderOptionsSetLoopVectorization(options, 1)
        LLVMPassBuilderOptionsSetSLPVectorization(options, 1)
        LLVMPassBuilderOptionsSetLoopInterleaving(options, 1)
        LLVMPassBuilderOptionsSetLoopUnrolling(options, 0)
        try checkLLVM(
            LLVMRunPasses(module, "default<O3>", machine, options),
            "LLVM could not optimise module '\(name)'")
    }
}

/// A module's object code (and its optimised text, when kept); `cached` when read from the
/// object cache.
typealias CompiledModule = (optimised: String, object: LLVMMemoryBufferRef, cached: Bool)

/// The object files of `add(modules:)`, each written by its own thread; those not handed to
/// the JIT are freed.
private final class ObjectCode: @unchecked Sendable {
    private(set) var values: [Result<CompiledModule, Error>?]
    private var handedOver: Set<Int> = []
    init(_ count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ result: Result<CompiledModule, Error>) { values[index] = result }
    func linked(_ index: Int) { handedOver.insert(index) }
    func disposeUnlinked() {
        for (index, value) in values.enumerated() where !handedOver.contains(index) {
            if case .success(let compiled)? = value { LLVMDisposeMemoryBuffer(compiled.object) }
        }
    }
}

extension String {
    /// The string without the line breaks LLVM ends its reports with.
    fileprivate var trimmingTrailingNewlines: String {
        String(self[..<(lastIndex { $0 != "\n" }.map(index(after:)) ?? startIndex)])
    }
}

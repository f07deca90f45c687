// Graft: the one module a user imports. It re-exports every library module, so
// `import Graft` reaches the whole public API:
//
//   GraftIR           graphs, types, the op table, the IR text (printer, parser, verifier)
//   GraftDSL          tensors, layers, scopes, `trace`: writing a model
//   GraftPasses       autodiff, the BYOL rewrites, optimizers, simplification, fusion
//   GraftInterpreter  the reference interpreter (float32 or float64)
//   GraftBackend      lowering to LLVM and the kernel cache
//   GraftRuntime      `Executable`: a compiled graph that runs
//   GraftCheckpoint   safetensors files
//   GraftData         datasets (IDX, CIFAR-10), augmentations, batches
//   GraftModels       ResNet, BYOL and SimCLR over any encoder, the supervised classifier, the catalog
//   GraftTrain        the training API: `TrainingStep`, `TrainingLoop`, evaluation, experiments

@_exported import GraftIR
@_exported import GraftDSL
@_exported import GraftPasses
@_exported import GraftInterpreter
@_exported import GraftBackend
@_exported import GraftRuntime
@_exported import GraftCheckpoint
@_exported import GraftData
@_exported import GraftModels
@_exported import GraftTrain

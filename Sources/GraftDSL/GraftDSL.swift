// GraftDSL: the modelling language (tensors, layers, tracing). Re-exports the IR types a
// model author needs. Users import `Graft`, which re-exports this module and the rest.

@_exported import GraftIR

// Graft: the DSL module. Re-exports the IR types a model author needs.

@_exported import GraftIR

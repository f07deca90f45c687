// Layer: the protocol every DSL layer conforms to.

import GraftIR

/// A building block of a model: a struct holding its params (declared in its initializer
/// through a `Scope`) whose `forward(_:)` records its ops.
///
/// Call a layer like a function, `y = conv1(x)`: the call site is recorded, and every op the
/// layer records (and every operator inside it) carries that location, so a shape error
/// points at the line of the model that called the layer.
public protocol Layer {
    /// Records the layer's computation on `x`.
    func forward(_ x: Tensor) -> Tensor
}

extension Layer {
    /// Applies the layer to `x`, recording the caller's file and line for its ops.
    public func callAsFunction(_ x: Tensor, file: String = #filePath, line: Int = #line) -> Tensor {
        x.builder.withLayerCall(file: file, line: line) { forward(x) }
    }
}

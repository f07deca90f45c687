// Values: a node's value inside the interpreter, its elements held as Float64 so the same
// code evaluates at either precision (Float32 results are rounded after every op).

import GraftIR

/// A tensor's type and its elements, row-major, as Float64.
struct Values {
    var type: TensorType
    var scalars: [Double]

    init(_ type: TensorType, _ scalars: [Double]) {
        self.type = type
        self.scalars = scalars
    }

    /// A value bound by the caller.
    init(_ tensor: HostTensor) {
        self.init(tensor.type, tensor.scalars.map(Double.init))
    }

    var shape: [Int] { type.shape }

    /// The elements rounded to Float32, as every API of the interpreter returns them.
    var host: HostTensor { HostTensor(type, scalars.map { Float($0) }) }
}

// Interpreter+Leaves: the computed leaves, `constant` and `iota`. (Inputs, params and state
// are bound by the driver in Interpreter.swift.)

import GraftIR

extension Interpreter {
    /// `constant`: every element is `value`, converted to the result dtype as `convert` would.
    func constant(_ value: Float, _ type: TensorType) -> HostTensor {
        HostTensor(repeating: Interpreter.converted(value, to: type.dtype), type)
    }

    /// `iota(axis)`: each element is its index along `axis`.
    func iota(axis: Int, _ type: TensorType) -> HostTensor {
        let (extent, stride) = (type.shape[axis], type.strides[axis])
        let scalars = (0..<type.elementCount).map { Float(($0 / stride) % extent) }
        return HostTensor(type, scalars)
    }
}

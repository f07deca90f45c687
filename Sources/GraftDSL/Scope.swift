// Scope: hierarchical names for params and state (`online.encoder.stage2.block0.conv1.weight`).

import GraftIR

/// A naming scope: the dotted path under which a layer declares its params and state.
///
/// ```swift
/// let encoder = ResNet(g.scope("online")("encoder"), config: .byolS)
/// // declares online.encoder.stem.conv.weight, online.encoder.stage1.block0.conv1.weight, ...
/// ```
/// Names are deterministic and so are initial values: each is drawn from a stream seeded by
/// the builder's seed and the value's full name, independent of declaration order.
public struct Scope {
    public let builder: GraphBuilder
    /// The dotted path of this scope.
    public let path: String

    public init(builder: GraphBuilder, path: String) {
        self.builder = builder
        self.path = path
    }

    /// The child scope `path.name`.
    public func callAsFunction(_ name: String) -> Scope {
        Scope(builder: builder, path: path.isEmpty ? name : "\(path).\(name)")
    }

    /// The full name of `name` in this scope.
    public func qualified(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    /// Declares a trainable f32 param initialised by `initializer`; `role` tells optimizers what it is.
    public func param(_ name: String, shape: [Int], _ initializer: Initializer, role: VariableRole = .weight,
                      file: String = #filePath, line: Int = #line) -> Tensor {
        builder.declare(.param(qualified(name)), type: TensorType(.f32, shape),
                        info: VariableInfo(initializer, role: role), at: builder.location(file: file, line: line))
    }

    /// Declares a non-trainable f32 state value initialised by `initializer`.
    public func state(_ name: String, shape: [Int], _ initializer: Initializer, role: VariableRole = .statistic,
                      file: String = #filePath, line: Int = #line) -> Tensor {
        builder.declare(.state(qualified(name)), type: TensorType(.f32, shape),
                        info: VariableInfo(initializer, role: role), at: builder.location(file: file, line: line))
    }
}

// VariableInfo: what the graph knows about each param and state beyond its type: how it is
// initialised, what it is for, which online variable a target shadows, and which output holds
// a param's gradient. Written as the declaration's attributes in the text form:
//   param @w : f32[3] {gradient = 1, init = normal, role = weight, std = 0.5}

/// What a param or state is for; optimizers and rewrites treat variables by role (LARS excludes
/// biases and normalisation params from weight decay and trust-ratio adaptation).
public enum VariableRole: String, Sendable, Hashable, CaseIterable {
    /// A weight matrix or convolution filter.
    case weight
    /// An additive bias.
    case bias
    /// A normalisation layer's learned scale or offset.
    case normalization
    /// A running statistic (BatchNorm's mean and variance).
    case statistic
    /// An optimizer's buffer (momentum, Adam moments).
    case optimizerState

    /// The role as the text form writes it: `weight`, ..., `optimizer_state`.
    public var textName: String { self == .optimizerState ? "optimizer_state" : rawValue }
}

/// How a declared param or state is initialised and what it is for, plus what the rewrites
/// record about it: the online variable a target state shadows (`MakeTarget`), and the output
/// that holds a param's gradient (`Autodiff`).
public struct VariableInfo: Sendable, Hashable {
    public var initializer: Initializer
    public var role: VariableRole
    /// For a target-network state: the name of the online param or state it shadows.
    public var targetOf: String?
    /// For a param: the index of the graph output holding the loss's gradient with respect
    /// to it.
    public var gradient: Int?

    public init(_ initializer: Initializer, role: VariableRole, targetOf: String? = nil, gradient: Int? = nil) {
        self.initializer = initializer
        self.role = role
        self.targetOf = targetOf
        self.gradient = gradient
    }

    /// The declaration's attributes in the order the text form prints them (sorted by name).
    public var attributes: [(name: String, value: Attribute)] {
        var result: [(name: String, value: Attribute)] = []
        if let gradient { result.append(("gradient", .int(gradient))) }
        switch initializer {
        case .constant(let value) where value.bitPattern == Float(0).bitPattern: result.append(("init", .word("zeros")))
        case .constant(let value) where value.bitPattern == Float(1).bitPattern: result.append(("init", .word("ones")))
        case .constant(let value): result += [("init", .word("constant")), ("value", .float(value))]
        case .uniform(let bound): result += [("bound", .float(bound)), ("init", .word("uniform"))]
        case .normal(let std): result += [("init", .word("normal")), ("std", .float(std))]
        }
        result.append(("role", .word(role.textName)))
        if let targetOf { result.append(("target_of", .word(targetOf))) }
        return result.sorted { $0.name < $1.name }
    }

    /// Reads a declaration's attributes; `keyword` (`param` or `state`) prefixes the errors.
    /// - Throws: a `TypeError` naming the missing, mistyped or unknown attribute.
    public init(keyword: String, attributes: [String: Attribute]) throws {
        var reader = AttributeReader(op: keyword, attributes: attributes)
        let initializers = "zeros, ones, constant, uniform, normal"
        switch try reader.word("init") {
        case "zeros": initializer = .zeros
        case "ones": initializer = .ones
        case "constant": initializer = .constant(try reader.float("value"))
        case "uniform": initializer = .uniform(bound: try reader.float("bound"))
        case "normal": initializer = .normal(std: try reader.float("std"))
        case let other: throw TypeError("\(keyword): attribute 'init' must be one of \(initializers), not '\(other)'")
        }
        let roleName = try reader.word("role")
        guard let role = VariableRole.allCases.first(where: { $0.textName == roleName }) else {
            let roles = VariableRole.allCases.map(\.textName).joined(separator: ", ")
            throw TypeError("\(keyword): attribute 'role' must be one of \(roles), not '\(roleName)'")
        }
        self.role = role
        targetOf = attributes["target_of"] == nil ? nil : try reader.word("target_of")
        gradient = attributes["gradient"] == nil ? nil : try reader.int("gradient")
        if targetOf != nil, keyword != "state" {
            throw TypeError("\(keyword): attribute 'target_of' is only for state: a target network is not trained")
        }
        if gradient != nil, keyword != "param" {
            throw TypeError("\(keyword): attribute 'gradient' is only for params: state has no gradient")
        }
        try reader.finish()
    }
}

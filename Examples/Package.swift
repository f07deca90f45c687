// swift-tools-version:6.0
// Graft's examples: a separate package that depends on Graft by path, as a user's would, and
// reaches everything through `import Graft`. `make examples` builds and runs each one.
import PackageDescription

let package = Package(
    name: "GraftExamples",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "Graft", path: ".."),
    ],
    targets: [
        .target(name: "ExampleSupport", dependencies: [.product(name: "Graft", package: "Graft")]),
        .executableTarget(name: "lenet", dependencies: ["ExampleSupport", .product(name: "Graft", package: "Graft")], path: "Sources/LeNet"),
        .executableTarget(name: "autoencoder", dependencies: ["ExampleSupport", .product(name: "Graft", package: "Graft")], path: "Sources/Autoencoder"),
        .executableTarget(name: "byol-custom-encoder", dependencies: ["ExampleSupport", .product(name: "Graft", package: "Graft")],
                          path: "Sources/BYOLCustomEncoder"),
    ]
)

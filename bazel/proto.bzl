"""C++ code for .proto files with Debian's protoc and grpc_cpp_plugin.

Bazel 4.2.3's native proto_library / cc_proto_library want to download
protobuf's sources, so this macro runs the system protoc in a genrule and
compiles what it writes in a cc_library. The well-known types
(google/protobuf/duration.proto, ...) come from /usr/include, where
libprotobuf-dev installs them next to the headers their code includes.

All .proto files of one call must sit in the calling package (below
`proto_root`) and may import each other and the well-known types only.
"""

load("@rules_cc//cc:defs.bzl", "cc_library")

_PROTOC = "/usr/bin/protoc"
_GRPC_PLUGIN = "/usr/bin/grpc_cpp_plugin"

def _join(*parts):
    return "/".join([p for p in parts if p])

def locus_cc_proto_library(name, srcs, proto_root = "", grpc = False, imports = [], deps = [], **kwargs):
    """cc_library `name` with the protobuf (and, with grpc = True, gRPC) code of srcs.

    Args:
      name: the cc_library's name; the genrule is `name + "_gen"`.
      srcs: .proto files, as paths inside this package.
      proto_root: directory inside this package that import statements are
        relative to ("" = the package). Generated headers are included by
        the same path: "locus/api/v1/x.proto" -> "locus/api/v1/x.pb.h".
      grpc: also generate service stubs (x.grpc.pb.h / .cc).
      imports: .proto files of this package that srcs import but that are
        compiled by another locus_cc_proto_library (name it in deps).
      deps: further cc deps of the library.
      **kwargs: passed to the cc_library (visibility, testonly, ...).
    """
    outs_h = []
    outs_cc = []
    for src in srcs:
        if not src.endswith(".proto"):
            fail("locus_cc_proto_library: %s is not a .proto file" % src)
        if proto_root and not src.startswith(proto_root + "/"):
            fail("locus_cc_proto_library: %s is not below proto_root %s" % (src, proto_root))
        base = src[:-len(".proto")]
        outs_h.append(base + ".pb.h")
        outs_cc.append(base + ".pb.cc")
        if grpc:
            outs_h.append(base + ".grpc.pb.h")
            outs_cc.append(base + ".grpc.pb.cc")

    root = _join(native.package_name(), proto_root)
    out_root = _join("$(RULEDIR)", proto_root)
    cmd = [
        _PROTOC,
        "--proto_path=" + (root or "."),
        "--proto_path=/usr/include",
        "--cpp_out=" + out_root,
    ]
    if grpc:
        cmd += [
            "--plugin=protoc-gen-grpc=" + _GRPC_PLUGIN,
            "--grpc_out=" + out_root,
        ]
    cmd += ["$(location %s)" % src for src in srcs]

    native.genrule(
        name = name + "_gen",
        srcs = srcs + imports,
        outs = outs_h + outs_cc,
        cmd = " ".join(cmd),
        message = "protoc " + name,
        visibility = ["//visibility:private"],
    )

    cc_library(
        name = name,
        srcs = outs_cc,
        hdrs = outs_h,
        includes = [proto_root or "."],
        deps = deps + ["@system//:grpc" if grpc else "@system//:protobuf"],
        **kwargs
    )

"""Offline stand-in for rules_cc.

Bazel 4.2.3 (Debian's bazel-bootstrap) fetches rules_cc at analysis time and
the machines that build Locus have no internet. Debian's bazel-rules-cc is too
new for this Bazel, so these thin wrappers forward to the native rules.
"""

def cc_binary(**kwargs):
    native.cc_binary(**kwargs)

def cc_library(**kwargs):
    native.cc_library(**kwargs)

def cc_test(**kwargs):
    native.cc_test(**kwargs)

def cc_import(**kwargs):
    native.cc_import(**kwargs)

def cc_proto_library(**kwargs):
    native.cc_proto_library(**kwargs)

def cc_toolchain(**kwargs):
    native.cc_toolchain(**kwargs)

def cc_toolchain_suite(**kwargs):
    native.cc_toolchain_suite(**kwargs)

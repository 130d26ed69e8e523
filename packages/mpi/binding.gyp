{
  "targets": [
    {
      "target_name": "d4_mpi",
      "sources": ["native/addon.cc", "native/collectives.cc", "native/counters.cc", "native/engine.cc", "native/post.cc", "native/receive.cc", "native/settle.cc", "native/trace.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "include_dirs": ["<!@(node scripts/mpi-flags.mjs includes)"],
      "defines": [
        "NAPI_VERSION=8",
        "OMPI_SKIP_MPICXX",
        "MPICH_SKIP_MPICXX",
        "<!@(node scripts/mpi-flags.mjs defines)"
      ],
      "cflags_cc": ["-std=c++17", "-O2", "<!@(node scripts/mpi-flags.mjs cflags)"],
      "libraries": ["<!@(node scripts/mpi-flags.mjs libs)"],
      "conditions": [
        ["OS=='mac'", { "xcode_settings": { "CLANG_CXX_LANGUAGE_STANDARD": "c++17", "GCC_ENABLE_CPP_EXCEPTIONS": "YES" } }]
      ]
    }
  ]
}

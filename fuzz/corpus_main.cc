// A main for a fuzz target without libFuzzer: feeds it every file of the
// folders (or files) named on the command line, once each, as libFuzzer's
// `-runs=0` replay does. The normal build links each target with it into
// fuzz_corpus_<name> and CTest runs it over fuzz/corpus/<name> (label
// `fuzz`), so a change that crashes on a known input, or breaks a target's
// property (FUZZ_CHECK aborts), fails ./test; fuzzing itself is fuzz/run.sh.
//
// Exit status 0 once every input ran; 1 if there was no input at all (a
// wrong path must not pass) or a path cannot be read. A crash, an abort or
// an escaping exception ends the process, after the input's name is printed.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// Defined by the targets that need set-up (e.g. libsodium's init).
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    const fs::path p(argv[i]);
    if (fs::is_directory(p, ec)) {
      for (const auto& e : fs::recursive_directory_iterator(p, ec))
        if (e.is_regular_file()) inputs.push_back(e.path());
    } else if (fs::is_regular_file(p, ec)) {
      inputs.push_back(p);
    }
    if (ec || (!fs::is_directory(p) && !fs::is_regular_file(p))) {
      std::fprintf(stderr, "cannot read %s%s%s\n", argv[i], ec ? ": " : "", ec ? ec.message().c_str() : "");
      return 1;
    }
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "no inputs under the paths given: nothing was tested\n");
    return 1;
  }
  std::sort(inputs.begin(), inputs.end());
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  for (const auto& path : inputs) {
    std::ifstream f(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (!f.good() && !f.eof()) {
      std::fprintf(stderr, "cannot read %s\n", path.c_str());
      return 1;
    }
    std::printf("%s (%zu bytes)\n", path.c_str(), bytes.size());
    std::fflush(stdout);  // the name is out before a crash
    // A buffer of exactly the input's size, as libFuzzer gives: a sanitizer
    // build sees a read past its end.
    auto data = std::make_unique<uint8_t[]>(bytes.size());
    std::copy(bytes.begin(), bytes.end(), data.get());
    LLVMFuzzerTestOneInput(data.get(), bytes.size());
  }
  std::printf("%zu inputs ran clean\n", inputs.size());
  return 0;
}

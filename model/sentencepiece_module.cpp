// libgemma_spm.so: the sentencepiece library behind a plain C ABI.
//
// Why a separate module: Debian's libsentencepiece embeds protobuf 3.14 and exports its symbols,
// while libtorch loads protobuf 3.21; linking both into one binary crashes before main. This module
// is built with -fvisibility=hidden (only the functions below are exported) and opened with
// dlmopen(LM_ID_NEWLM) into a link-map namespace of its own, so sentencepiece's protobuf never meets
// torch's. It must not be built with the sanitizers (their runtime cannot be loaded a second time
// into that namespace); the sanitizer build leaves it uninstrumented.
//
// Conventions: handles are opaque; strings are (pointer, length) pairs of UTF-8 bytes; no C++
// exception crosses this boundary (failures return -1 / null and write a message to err).
#include <sentencepiece_processor.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#define GEMMA_SPM_API extern "C" __attribute__((visibility("default")))

namespace {

struct SpmHandle {
  sentencepiece::SentencePieceProcessor processor;
};

const sentencepiece::SentencePieceProcessor& processor_of(const void* handle) {
  return static_cast<const SpmHandle*>(handle)->processor;
}

void write_error(const std::string& message, char* err, size_t err_capacity) {
  if (err == nullptr || err_capacity == 0) return;
  size_t length = std::min(message.size(), err_capacity - 1);
  std::memcpy(err, message.data(), length);
  err[length] = '\0';
}

bool valid_id(const void* handle, int id) { return id >= 0 && id < processor_of(handle).GetPieceSize(); }

}  // namespace

// Loads a .model file; returns a handle, or null with the reason in err.
GEMMA_SPM_API void* gemma_spm_load(const char* path, char* err, size_t err_capacity) {
  try {
    auto handle = std::make_unique<SpmHandle>();
    auto status = handle->processor.Load(path);
    if (!status.ok()) {
      write_error(status.ToString(), err, err_capacity);
      return nullptr;
    }
    return handle.release();
  } catch (const std::exception& e) {
    write_error(e.what(), err, err_capacity);
    return nullptr;
  }
}

GEMMA_SPM_API void gemma_spm_free(void* handle) { delete static_cast<SpmHandle*>(handle); }

GEMMA_SPM_API int gemma_spm_vocab_size(const void* handle) { return processor_of(handle).GetPieceSize(); }

// Encodes text into ids. Writes at most `capacity` ids to `out` and returns how many there are in
// total (call again with a bigger buffer when that exceeds capacity), or -1 with the reason in err.
GEMMA_SPM_API long gemma_spm_encode(const void* handle, const char* text, size_t length, int* out, size_t capacity,
                                    char* err, size_t err_capacity) {
  try {
    std::vector<int> ids;
    auto status = processor_of(handle).Encode(std::string_view(text, length), &ids);
    if (!status.ok()) {
      write_error(status.ToString(), err, err_capacity);
      return -1;
    }
    std::copy_n(ids.begin(), std::min(ids.size(), capacity), out);
    return static_cast<long>(ids.size());
  } catch (const std::exception& e) {
    write_error(e.what(), err, err_capacity);
    return -1;
  }
}

// Decodes ids (all must be valid) with sentencepiece's own detokenizer. Writes at most `capacity`
// bytes (no terminator) and returns the full length, or -1 with the reason in err.
GEMMA_SPM_API long gemma_spm_decode(const void* handle, const int* ids, size_t count, char* out, size_t capacity,
                                    char* err, size_t err_capacity) {
  try {
    std::string text;
    auto status = processor_of(handle).Decode(std::vector<int>(ids, ids + count), &text);
    if (!status.ok()) {
      write_error(status.ToString(), err, err_capacity);
      return -1;
    }
    std::memcpy(out, text.data(), std::min(text.size(), capacity));
    return static_cast<long>(text.size());
  } catch (const std::exception& e) {
    write_error(e.what(), err, err_capacity);
    return -1;
  }
}

// The piece of an id; the bytes stay valid as long as the handle. Null for an invalid id.
GEMMA_SPM_API const char* gemma_spm_piece(const void* handle, int id, size_t* length) {
  if (!valid_id(handle, id)) return nullptr;
  const std::string& piece = processor_of(handle).IdToPiece(id);
  *length = piece.size();
  return piece.data();
}

// The id of a piece; sentencepiece answers unk_id for unknown pieces.
GEMMA_SPM_API int gemma_spm_piece_to_id(const void* handle, const char* piece, size_t length) {
  return processor_of(handle).PieceToId(std::string_view(piece, length));
}

GEMMA_SPM_API int gemma_spm_is_control(const void* handle, int id) {
  return valid_id(handle, id) && processor_of(handle).IsControl(id);
}
GEMMA_SPM_API int gemma_spm_is_unknown(const void* handle, int id) {
  return valid_id(handle, id) && processor_of(handle).IsUnknown(id);
}
GEMMA_SPM_API int gemma_spm_is_byte(const void* handle, int id) {
  return valid_id(handle, id) && processor_of(handle).IsByte(id);
}
GEMMA_SPM_API int gemma_spm_is_unused(const void* handle, int id) {
  return valid_id(handle, id) && processor_of(handle).IsUnused(id);
}

// Special ids as the model defines them; -1 when the model has none.
GEMMA_SPM_API int gemma_spm_bos_id(const void* handle) { return processor_of(handle).bos_id(); }
GEMMA_SPM_API int gemma_spm_eos_id(const void* handle) { return processor_of(handle).eos_id(); }
GEMMA_SPM_API int gemma_spm_pad_id(const void* handle) { return processor_of(handle).pad_id(); }
GEMMA_SPM_API int gemma_spm_unk_id(const void* handle) { return processor_of(handle).unk_id(); }

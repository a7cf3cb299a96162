#include "server/pipeline/hooks/parse_json_hook.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "rapidjson/document.h"
#include "rapidjson/reader.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "server/common/utf8.h"
#include "server/config/yaml_reader.h"

namespace sluice::pipeline::hooks {
namespace {

// Every allocation of one message's parse — values, the document's and the reader's
// stacks, nested values' text — comes from one pool whose first block is on the worker's
// stack, so a typical message is parsed without touching the heap; a larger one spills
// into heap chunks, freed with the pool.
using Pool = rapidjson::MemoryPoolAllocator<>;
using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, Pool, Pool>;
using Reader = rapidjson::GenericReader<rapidjson::UTF8<>, rapidjson::UTF8<>, Pool>;
using TextBuffer = rapidjson::GenericStringBuffer<rapidjson::UTF8<>, Pool>;
using TextWriter = rapidjson::Writer<TextBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>, Pool>;
constexpr size_t kPoolOnStack = 4096;
constexpr size_t kPoolChunk = 16 * 1024;

struct ParseJsonConfig {
  std::string message_key = "message";
  std::string prefix;
  int64_t max_depth = 8;
  int64_t max_fields = 64;
};

const config::KeyTable<ParseJsonConfig>& ParseJsonKeys() {
  static const auto* const table = new config::KeyTable<ParseJsonConfig>{
      config::StringKey("message_key", &ParseJsonConfig::message_key, config::StringRule::kAny,
                        "The member that becomes the record's message when it is a string; "
                        "otherwise it is a field like the others and the message stays. Empty: "
                        "every member is a field."),
      config::WithDefaultText(
          config::StringKey("prefix", &ParseJsonConfig::prefix, config::StringRule::kAny,
                            "Put before each member's name to make its field's key."),
          "none"),
      config::IntegerKey("max_depth", &ParseJsonConfig::max_depth, 1, 64,
                         "How deep objects and arrays may nest, the message's object being 1; "
                         "a deeper message is a failure."),
      config::IntegerKey("max_fields", &ParseJsonConfig::max_fields, 1, 1024,
                         "How many members the message's object may have; one with more is a "
                         "failure, so that one message cannot give its record thousands of "
                         "fields that every later step pays for."),
  };
  return *table;
}

// Passes the reader's events on to a document, and stops the parse at strings that are
// not UTF-8 (the input is, but an escaped lone surrogate such as "\udc00" decodes to one)
// and at nesting deeper than `max_depth`. The reader asks before it descends, so the depth
// check also bounds its recursion on the worker's stack, whatever the message.
class CheckedHandler {
 public:
  CheckedHandler(Document& document, int max_depth) : document_(document), max_depth_(max_depth) {}

  bool Null() { return document_.Null(); }
  bool Bool(bool b) { return document_.Bool(b); }
  bool Int(int i) { return document_.Int(i); }
  bool Uint(unsigned u) { return document_.Uint(u); }
  bool Int64(int64_t i) { return document_.Int64(i); }
  bool Uint64(uint64_t u) { return document_.Uint64(u); }
  bool Double(double d) { return document_.Double(d); }
  bool RawNumber(const char* text, rapidjson::SizeType length, bool copy) {
    return document_.RawNumber(text, length, copy);
  }
  bool String(const char* text, rapidjson::SizeType length, bool copy) {
    return IsValidUtf8(absl::string_view(text, length)) && document_.String(text, length, copy);
  }
  bool Key(const char* text, rapidjson::SizeType length, bool copy) {
    return String(text, length, copy);
  }
  bool StartObject() { return ++depth_ <= max_depth_ && document_.StartObject(); }
  bool EndObject(rapidjson::SizeType members) {
    --depth_;
    return document_.EndObject(members);
  }
  bool StartArray() { return ++depth_ <= max_depth_ && document_.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) {
    --depth_;
    return document_.EndArray(elements);
  }

 private:
  Document& document_;
  const int max_depth_;
  int depth_ = 0;
};

absl::string_view View(const rapidjson::Value& string) {
  return absl::string_view(string.GetString(), string.GetStringLength());
}

class ParseJsonHook final : public Hook {
 public:
  ParseJsonHook(std::string id, ParseJsonConfig config)
      : id_(std::move(id)), config_(std::move(config)) {}

  absl::string_view id() const override { return id_; }

  Verdict OnRecord(HookRecord& record) const override {
    const std::string& message = record.record().message();
    const size_t start = message.find_first_not_of(" \t\n\r");
    if (start == std::string::npos || message[start] != '{') return Verdict::kKeep;
    // RapidJSON reads a NUL as the end of its input, so text after one would go unseen;
    // JSON has no raw NUL anywhere.
    if (message.find('\0') != std::string::npos) return Verdict::kFailed;

    alignas(std::max_align_t) char on_stack[kPoolOnStack];
    Pool pool(on_stack, sizeof(on_stack), kPoolChunk);
    Document document(&pool, /*stackCapacity=*/256, &pool);
    bool parsed = false;
    auto parse = [&](Document& into) {
      CheckedHandler handler(into, static_cast<int>(config_.max_depth));
      rapidjson::StringStream stream(message.c_str());
      Reader reader(&pool, /*stackCapacity=*/256);
      parsed = !reader.Parse<rapidjson::kParseFullPrecisionFlag>(stream, handler).IsError();
      return parsed;
    };
    document.Populate(parse);
    if (!parsed || !document.IsObject()) return Verdict::kFailed;
    if (document.MemberCount() > static_cast<uint64_t>(config_.max_fields)) {
      return Verdict::kFailed;
    }

    std::string key;
    // By index: RapidJSON 1.1.0's member iterators compare ambiguously in C++20 (clang
    // warns, and -Werror makes that an error).
    const auto members = document.MemberBegin();
    for (rapidjson::SizeType i = 0; i < document.MemberCount(); ++i) {
      const auto& member = members[i];
      const absl::string_view name = View(member.name);
      const rapidjson::Value& value = member.value;
      if (name.empty() || value.IsNull()) continue;
      if (value.IsString() && !config_.message_key.empty() && name == config_.message_key) {
        record.record().set_message(value.GetString(), value.GetStringLength());
        continue;
      }
      key.assign(config_.prefix);
      key.append(name.data(), name.size());
      v1::Field& field = record.SetField(key);
      if (value.IsString()) {
        field.set_string_value(value.GetString(), value.GetStringLength());
      } else if (value.IsBool()) {
        field.set_bool_value(value.GetBool());
      } else if (value.IsInt64()) {
        field.set_int_value(value.GetInt64());
      } else if (value.IsNumber()) {
        field.set_double_value(value.GetDouble());
      } else {
        TextBuffer text(&pool, /*capacity=*/256);
        TextWriter writer(text, &pool);
        value.Accept(writer);
        field.set_string_value(text.GetString(), text.GetSize());
      }
    }
    return Verdict::kKeep;
  }

 private:
  const std::string id_;
  const ParseJsonConfig config_;
};

}  // namespace

std::vector<config::KeyDoc> ParseJsonHookFactory::keys() const { return ParseJsonKeys().docs(); }

std::string ParseJsonHookFactory::example_config() const {
  return "{type: parse_json, name: app, message_key: msg, prefix: \"json.\"}";
}

absl::StatusOr<std::unique_ptr<Hook>> ParseJsonHookFactory::Create(
    std::string id, const YAML::Node& config, const std::string& config_path) const {
  ParseJsonConfig parsed;
  if (absl::Status status = ParseJsonKeys().Read(config, config_path, parsed, kCommonHookKeys);
      !status.ok()) {
    return status;
  }
  return std::make_unique<ParseJsonHook>(std::move(id), std::move(parsed));
}

}  // namespace sluice::pipeline::hooks

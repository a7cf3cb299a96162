#include "server/outputs/builtin_outputs.h"

#include <memory>

#include "server/outputs/clickhouse/clickhouse_output.h"
#include "server/outputs/console/console_output.h"
#include "server/outputs/file/file_output.h"
#include "server/outputs/forward/forward_output.h"
#include "server/outputs/kafka/kafka_output.h"
#include "server/outputs/null/null_output.h"
#include "server/outputs/otlp/otlp_output.h"
#include "server/outputs/syslog/syslog_output.h"

namespace sluice::outputs {

void RegisterBuiltinOutputs(OutputRegistry& registry) {
  registry.Register(std::make_unique<ClickHouseOutputFactory>());
  registry.Register(std::make_unique<ConsoleOutputFactory>());
  registry.Register(std::make_unique<FileOutputFactory>());
  registry.Register(std::make_unique<ForwardOutputFactory>());
  registry.Register(std::make_unique<KafkaOutputFactory>());
  registry.Register(std::make_unique<NullOutputFactory>());
  registry.Register(std::make_unique<OtlpOutputFactory>());
  registry.Register(std::make_unique<SyslogOutputFactory>());
}

}  // namespace sluice::outputs

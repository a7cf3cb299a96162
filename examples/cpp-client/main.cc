// send_records: sends 1,000 records to the Sluice server at the address given on the
// command line and exits 0 once the server has acknowledged every one of them; 1 if it
// did not within 30 seconds. An example of linking sluice::Client from another project
// (CMakeLists.txt beside it; or `pkg-config --cflags --libs sluice-client`).
//
//   send_records 127.0.0.1:4317
#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "sluice/client.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s host:port\n", argv[0]);
    return 2;
  }
  constexpr int kRecords = 1000;

  sluice::ClientOptions options;
  options.target = argv[1];
  sluice::Client client(options);
  for (int i = 0; i < kRecords; ++i) {
    client.Log(sluice::v1::LEVEL_INFO, "example.cpp_client", "record from the example",
               {{"index", i}, {"example", true}});
  }

  // Flush returns OK once every record logged before it was acknowledged.
  const absl::Status flushed = client.Flush(absl::Now() + absl::Seconds(30));
  const sluice::ClientStats stats = client.stats();
  if (!flushed.ok()) {
    std::fprintf(stderr, "send_records: %s\n", std::string(flushed.message()).c_str());
    return 1;
  }
  if (stats.acked_records != kRecords || stats.dropped_buffer_full != 0) {
    std::fprintf(stderr, "send_records: %llu of %d records acknowledged, %llu dropped\n",
                 static_cast<unsigned long long>(stats.acked_records), kRecords,
                 static_cast<unsigned long long>(stats.dropped_buffer_full));
    return 1;
  }
  std::printf("send_records: %llu records acknowledged (%llu accepted by the server)\n",
              static_cast<unsigned long long>(stats.acked_records),
              static_cast<unsigned long long>(stats.server_accepted));
  return 0;
}

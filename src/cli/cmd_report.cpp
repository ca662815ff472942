// pipecut report TREE -o report.html: one self-contained page about a split tree.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "pipecut/edgetpu_estimate.h"
#include "pipecut/files.h"
#include "pipecut/progress.h"
#include "pipecut/report.h"

namespace pipecut::cli {

namespace {
struct ReportArgs {
  std::string dir;
  std::string output = "report.html";
  std::string link = "usb3";
};
}  // namespace

void add_report(CLI::App& app) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Write one self-contained HTML page about a split tree: sizes against the window, on-chip "
      "and off-chip per file, the simulated TPU pipeline, compile status and logs");
  cmd->add_option("tree", args->dir, "folder written by pipecut split")->required();
  cmd->add_option("-o,--output", args->output, "the HTML file")->capture_default_str();
  cmd->add_option("--link", args->link,
                  "host link of the estimates: usb3 (the calibration host), usb3-coral (Coral's "
                  "benchmark host), usb2 or pcie")
      ->capture_default_str()
      ->check(CLI::IsMember(edgetpu_link_names()));
  cmd->callback([args] {
    const SplitTree tree = read_split_tree(args->dir);
    ReportOptions options;
    options.link = args->link;
    ProgressBar bar(true);
    const std::string html =
        with_progress(bar, "estimating", [&] { return tree_report_html(tree, options); });
    write_file_atomic(args->output, html);
    std::cout << "wrote " << args->output << " (" << html.size() / 1024 << " KiB)\n";
  });
}

}  // namespace pipecut::cli

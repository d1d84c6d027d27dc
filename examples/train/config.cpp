#include "config.h"

#include <fstream>
#include <memory>
#include <sstream>

#include "core/error.h"

namespace nabla::train {

namespace {

// CLI11's config files are TOML/INI; this reads and writes a flat JSON object instead. Numbers and
// booleans become the strings a command line would give; arrays feed repeatable flags.
class JsonConfig : public CLI::Config {
 public:
  std::string to_config(const CLI::App* app, bool, bool, std::string) const override {
    return config_json(*app).dump(2) + "\n";
  }

  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    nlohmann::json document;
    try {
      document = nlohmann::json::parse(input);
    } catch (const nlohmann::json::exception& e) {
      throw CLI::ConversionError("--config: not valid JSON: " + std::string(e.what()));
    }
    if (!document.is_object())
      throw CLI::ConversionError("--config: the file must hold one JSON object of flag: value");
    std::vector<CLI::ConfigItem> items;
    for (const auto& [key, value] : document.items()) {
      CLI::ConfigItem item;
      item.name = key;
      if (value.is_array()) {
        // An empty list is the flag's default: nothing to give it.
        if (value.empty()) continue;
        for (const nlohmann::json& element : value) item.inputs.push_back(as_input(key, element));
      } else {
        item.inputs.push_back(as_input(key, value));
      }
      items.push_back(std::move(item));
    }
    return items;
  }

 private:
  static std::string as_input(const std::string& key, const nlohmann::json& value) {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_boolean() || value.is_number()) return value.dump();
    throw CLI::ConversionError("--config: \"" + key +
                               "\" must be a string, number, boolean or an " +
                               "array of them, not " + value.dump());
  }
};

// A flag's text as a JSON value: booleans and numbers typed, so the log reads naturally.
nlohmann::json typed(const CLI::Option& option, const std::string& text) {
  if (option.get_expected_max() == 0 || option.get_type_name() == "BOOLEAN")
    return text == "true" || text == "1";
  if (option.get_type_name() == "INT" || option.get_type_name() == "UINT") {
    try {
      return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception&) {
    }
  }
  if (option.get_type_name() == "FLOAT") return std::stod(text);
  return text;
}

}  // namespace

void add_flags(CLI::App& app, TrainConfig& c) {
  app.option_defaults()->always_capture_default();
  app.config_formatter(std::make_shared<JsonConfig>());
  app.set_config("--config", "", "a JSON file of flag: value (the command line overrides it)");
  app.allow_config_extras(CLI::config_extras_mode::error);

  app.add_option("--dataset", c.dataset, "cifar10, cifar100, fashion-mnist or imagefolder");
  app.add_option("--data", c.data_dir,
                 "dataset folder (else $NABLA_DATA, ./data, ../shared/data); for imagefolder, a "
                 "folder holding train/ and test/");
  app.add_option("--train-images", c.train_images, "use only the first N training images (0: all)");
  app.add_option("--test-images", c.test_images,
                 "evaluate on the first N test images only (0: all), for quick runs");
  app.add_option("--validation", c.validation,
                 "fraction of the training images held out for validation (early stopping and "
                 "the plateau schedule watch it)");
  app.add_flag("--augment", c.augment, "random crop and horizontal flip");

  app.add_option("--model", c.model, "mlp, cnn, resnet20, resnet18 or fastnet");
  app.add_option("--width", c.width, "multiplies the model's hidden widths");
  app.add_option("--depth", c.depth,
                 "layers per stage (cnn: convolutions, resnets: blocks) or the mlp's hidden "
                 "layers (0: the model's own)");
  app.add_option("--dropout", c.dropout, "dropout before the classifier (cnn, mlp)");
  app.add_option("--init", c.init, "default (PyTorch's), xavier or he");

  app.add_flag("--whiten", c.whiten,
               "fastnet: a fixed first layer that whitens 3x3 patches of the training images");

  app.add_option("--optimizer", c.optimizer, "any registered optimizer");
  app.add_option("--opt", c.optimizer_options, "an optimizer option, key=value (repeatable)");
  app.add_option("--lr", c.lr, "peak learning rate");
  app.add_option("--weight-decay", c.weight_decay);
  app.add_option("--schedule", c.schedule, "any registered schedule (plateau: once per epoch)");
  app.add_option("--sched-opt", c.schedule_options, "a schedule option, key=value (repeatable)");
  app.add_option("--warmup", c.warmup_epochs, "epochs of linear warmup (fractions allowed)");
  app.add_option("--epochs", c.epochs);
  app.add_option("--batch-size", c.batch_size);
  app.add_option("--label-smoothing", c.label_smoothing);
  app.add_option("--clip-norm", c.clip_norm, "clip the gradients' global L2 norm (0: off)");
  app.add_option("--early-stopping", c.early_stopping,
                 "stop after this many epochs without a better validation (else test) loss, and "
                 "keep the best weights (0: off)");
  app.add_option("--ema", c.ema,
                 "evaluate an exponential moving average of the weights with "
                 "this decay per step (0: off)");
  app.add_flag("--tta", c.tta,
               "test-time augmentation: average the logits of each test image "
               "and its mirror image");

  app.add_option("--seed", c.seed);
  app.add_option("--threads", c.threads, "compute threads (0: every core)");
  app.add_option("--workers", c.workers, "data loader threads");
  app.add_option("--device", c.device, "cpu or cuda");
  app.add_option("--checkpoint", c.checkpoint,
                 "save the whole training state here after every epoch (atomically)");
  app.add_option("--checkpoint-steps", c.checkpoint_steps,
                 "also save it every N steps (0: at epoch ends only)");
  app.add_option("--resume", c.resume,
                 "continue the run a checkpoint holds; with --eval-only, the weights to evaluate");
  app.add_flag("--eval-only", c.eval_only, "evaluate the --resume weights on the test set");
  app.add_option("--log", c.log, "write metrics as JSON lines here, and as CSV beside it");
  app.add_option("--inject-nan", c.inject_nan,
                 "make the loss of this step (counting from 1) NaN, to test divergence handling")
      ->group("Testing");
}

void validate(const TrainConfig& c) {
  auto require = [](bool ok, const std::string& flag, const auto& value, const char* rule) {
    NABLA_CHECK(ok, ValueError, flag, ": ", value, " is not valid; it must be ", rule);
  };
  require(c.epochs > 0, "--epochs", c.epochs, "positive");
  require(c.batch_size > 0, "--batch-size", c.batch_size, "positive");
  require(c.train_images >= 0, "--train-images", c.train_images, "0 or more");
  require(c.test_images >= 0, "--test-images", c.test_images, "0 or more");
  require(c.validation >= 0 && c.validation < 1, "--validation", c.validation, "in [0, 1)");
  require(c.width > 0, "--width", c.width, "positive");
  require(c.depth >= 0, "--depth", c.depth, "0 or more");
  require(c.dropout >= 0 && c.dropout < 1, "--dropout", c.dropout, "in [0, 1)");
  require(c.init == "default" || c.init == "xavier" || c.init == "he", "--init", c.init,
          "default, xavier or he");
  require(c.warmup_epochs >= 0, "--warmup", c.warmup_epochs, "0 or more");
  require(c.label_smoothing >= 0 && c.label_smoothing < 1, "--label-smoothing", c.label_smoothing,
          "in [0, 1)");
  require(c.clip_norm >= 0, "--clip-norm", c.clip_norm, "0 or more");
  require(c.early_stopping >= 0, "--early-stopping", c.early_stopping, "0 or more");
  require(c.ema >= 0 && c.ema < 1, "--ema", c.ema, "in [0, 1)");
  require(c.threads >= 0, "--threads", c.threads, "0 or more");
  require(c.workers >= 0, "--workers", c.workers, "0 or more");
  require(c.device == "cpu" || c.device == "cuda", "--device", c.device, "cpu or cuda");
  require(c.checkpoint_steps >= 0, "--checkpoint-steps", c.checkpoint_steps, "0 or more");
  require(!c.eval_only || !c.resume.empty(), "--eval-only", "without --resume",
          "given with --resume WEIGHTS");
  require(c.inject_nan >= 0, "--inject-nan", c.inject_nan, "0 or more");
}

nlohmann::json config_json(const CLI::App& app) {
  nlohmann::json out = nlohmann::json::object();
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_lnames().empty()) continue;
    const std::string& name = option->get_lnames().front();
    if (name == "help" || name == "config") continue;
    std::vector<std::string> values = option->results();
    if (option->get_items_expected_max() > 1) {
      out[name] = values;
    } else {
      out[name] = typed(*option, values.empty() ? option->get_default_str() : values.back());
    }
  }
  return out;
}

nlohmann::json config_record(const TrainConfig& config) {
  // Flags bound to a copy capture its values as their defaults, which config_json reports for
  // flags the command line did not give. CLI11 keeps six digits of a default number, so the
  // numbers come from the copy itself, in full, as do the repeatable flags: a run from the record
  // is the same run, bit for bit.
  TrainConfig copy = config;
  CLI::App app;
  add_flags(app, copy);
  nlohmann::json record = config_json(app);
  record["validation"] = config.validation;
  record["width"] = config.width;
  record["dropout"] = config.dropout;
  record["lr"] = config.lr;
  record["weight-decay"] = config.weight_decay;
  record["warmup"] = config.warmup_epochs;
  record["label-smoothing"] = config.label_smoothing;
  record["clip-norm"] = config.clip_norm;
  record["ema"] = config.ema;
  record["opt"] = config.optimizer_options;
  record["sched-opt"] = config.schedule_options;
  return record;
}

TrainConfig config_from_json(const nlohmann::json& record) {
  TrainConfig config;
  CLI::App app;
  add_flags(app, config);
  std::istringstream input(record.dump());
  try {
    app.parse_from_stream(input);
  } catch (const CLI::Error& e) {
    NABLA_CHECK(false, ValueError, "a run's recorded settings do not parse: ", e.what());
  }
  return config;
}

std::vector<std::pair<std::string, std::string>> key_values(const std::vector<std::string>& entries,
                                                            const std::string& flag) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& entry : entries) {
    const size_t eq = entry.find('=');
    NABLA_CHECK(eq != std::string::npos && eq > 0, ValueError, flag, ": expected key=value, got '",
                entry, "'");
    out.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return out;
}

}  // namespace nabla::train

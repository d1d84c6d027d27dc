"""PyTorch side of the accuracy comparison: trains a model of bench/torch_train_step.py on CIFAR-10
files with nabla-train's recipe, step for step, and prints `test accuracy: NN.NN%` as nabla-train
does. bench/compare_accuracy.sh runs both over several seeds.

The recipe (nabla-train's defaults, examples/train/config.h): SGD with Nesterov momentum 0.9 and
weight decay 5e-4 on every parameter; the learning rate rises linearly from 0 over the first
epoch's steps, then follows a cosine to 0 over the remaining steps; cross-entropy with label
smoothing 0.1; batch 128 in a new random order each epoch, the last batch short; each training
image is cropped at a random offset after reflect-padding by 4 and mirrored with probability 1/2;
images are normalized with CIFAR-10's channel mean and standard deviation.

  MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=17179869184 OPENBLAS_NUM_THREADS=1 \\
      /usr/bin/python3 bench/torch_cifar_subset.py --data DIR --model cnn --epochs 15 --seed 0
"""
import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_train_step import MODELS  # noqa: E402

MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
STD = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)
RECORD = 1 + 3 * 32 * 32


def read_batches(folder, names):
    """Images uint8 [N, 3, 32, 32] and labels int64 [N] from CIFAR-10 binary files."""
    raw = b"".join(open(os.path.join(folder, name), "rb").read() for name in names)
    if len(raw) % RECORD:
        sys.exit(f"{folder}: the files are not whole {RECORD}-byte records")
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, RECORD)
    images = torch.from_numpy(records[:, 1:].reshape(-1, 3, 32, 32).copy())
    return images, torch.from_numpy(records[:, 0].astype(np.int64))


def find_cifar10(root):
    for sub in ("cifar-10-batches-bin", "cifar-10-subset", "."):
        folder = os.path.join(root, sub)
        if os.path.exists(os.path.join(folder, "test_batch.bin")):
            return folder
    sys.exit(f"no CIFAR-10 binary files under {root}")


def augment(images, generator):
    """Random 32x32 crops of the reflect-padded images, each mirrored with probability 1/2."""
    padded = F.pad(images.float(), (4, 4, 4, 4), mode="reflect")
    n = images.shape[0]
    tops = torch.randint(0, 9, (n,), generator=generator)
    lefts = torch.randint(0, 9, (n,), generator=generator)
    flips = torch.rand(n, generator=generator) < 0.5
    out = torch.empty(n, 3, 32, 32)
    for i in range(n):
        crop = padded[i, :, tops[i]:tops[i] + 32, lefts[i]:lefts[i] + 32]
        out[i] = crop.flip(2) if flips[i] else crop
    return out


def normalize(images):
    return (images / 255.0 - MEAN) / STD


def lr_factor(step, warmup, total):
    if step < warmup:
        return step / warmup
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(total - warmup, 1)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="folder holding the CIFAR-10 binary files")
    parser.add_argument("--model", default="cnn", choices=[m for m in MODELS if m != "mlp"])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--warmup", type=float, default=1.0, help="epochs of linear warmup")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    folder = find_cifar10(args.data)
    train_x, train_y = read_batches(folder, [f"data_batch_{i}.bin" for i in range(1, 6)])
    test_x, test_y = read_batches(folder, ["test_batch.bin"])
    print(f"CIFAR-10 from {folder}: {len(train_y)} train + {len(test_y)} test images")

    model = MODELS[args.model][0]()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True,
                                weight_decay=args.weight_decay)
    steps_per_epoch = math.ceil(len(train_y) / args.batch_size)
    warmup, total = round(args.warmup * steps_per_epoch), args.epochs * steps_per_epoch
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(step, warmup, total))

    for epoch in range(1, args.epochs + 1):
        model.train()
        order = torch.randperm(len(train_y), generator=generator)
        seen, loss_sum, correct = 0, 0.0, 0
        for start in range(0, len(order), args.batch_size):
            index = order[start:start + args.batch_size]
            x, y = normalize(augment(train_x[index], generator)), train_y[index]
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=args.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            seen += len(y)
            loss_sum += loss.item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
        print(f"epoch {epoch}/{args.epochs}: train loss {loss_sum / seen:.4f} "
              f"acc {100 * correct / seen:.2f}%", flush=True)

    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(test_y), 500):
            x = normalize(test_x[start:start + 500].float())
            correct += (model(x).argmax(1) == test_y[start:start + 500]).sum().item()
    print(f"test accuracy: {100 * correct / len(test_y):.2f}%")


if __name__ == "__main__":
    main()

"""PyTorch reference for bench_train_step: the same models (nn/models/*.cpp), loss, optimizer and
timing, so that bench/compare_torch.sh can put the two side by side.

Run it tuned (BENCHMARKING.md): without these variables PyTorch page-faults every step and its
OpenBLAS threads compete with its own pool.
  MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=17179869184 OPENBLAS_NUM_THREADS=1 \\
      /usr/bin/python3 bench/torch_train_step.py [--models cnn,fastnet,resnet20,mlp] ...
"""
import argparse
import os
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv3x3(cin, cout, stride=1, bias=False):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=bias)


def small_cnn():
    """nn/models/cnn.cpp: three conv3x3 (bias) + ReLU + max-pool 2 stages, then Linear."""
    layers, cin = [], 3
    for width in (32, 64, 128):
        layers += [conv3x3(cin, width, bias=True), nn.ReLU(), nn.MaxPool2d(2)]
        cin = width
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(128 * 4 * 4, 10))


class FastNet(nn.Module):
    """nn/models/fastnet.cpp: stem conv-BN-GELU, three conv-pool-BN-GELU-conv-BN-GELU blocks,
    global max pool, Linear without bias."""

    def __init__(self):
        super().__init__()
        w0, w1, w2, w3 = 32, 64, 256, 256
        self.stem = nn.Sequential(conv3x3(3, w0), nn.BatchNorm2d(w0), nn.GELU())

        def block(cin, cout):
            return nn.Sequential(conv3x3(cin, cout), nn.MaxPool2d(2), nn.BatchNorm2d(cout),
                                 nn.GELU(), conv3x3(cout, cout), nn.BatchNorm2d(cout), nn.GELU())

        self.block1, self.block2, self.block3 = block(w0, w1), block(w1, w2), block(w2, w3)
        self.fc = nn.Linear(w3, 10, bias=False)

    def forward(self, x):
        y = self.block3(self.block2(self.block1(self.stem(x))))
        return self.fc(torch.amax(y, dim=(2, 3)))


class BasicBlock(nn.Module):
    """nn/models/resnet.cpp: conv-BN-ReLU-conv-BN plus a projection shortcut (1x1 conv + BN)
    where the shape changes, then ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1, self.bn1 = conv3x3(cin, cout, stride), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = conv3x3(cout, cout), nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.shortcut is None else self.shortcut(x)))


class ResNet20(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = conv3x3(3, 16), nn.BatchNorm2d(16)
        blocks, cin = [], 16
        for stage, width in enumerate((16, 32, 64)):
            for b in range(3):
                blocks.append(BasicBlock(cin, width, 2 if stage > 0 and b == 0 else 1))
                cin = width
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        y = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))


def mlp():
    """nn/models/mlp.cpp on 1x28x28 images: 784-512-256-10 with ReLU."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256),
                         nn.ReLU(), nn.Linear(256, 10))


MODELS = {
    "cnn": (small_cnn, (3, 32, 32)),
    "fastnet": (FastNet, (3, 32, 32)),
    "resnet20": (ResNet20, (3, 32, 32)),
    "mlp": (mlp, (1, 28, 28)),
}


def time_model(name, args):
    make, shape = MODELS[name]
    model = make()
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = torch.randn(args.batch, *shape)
    labels = torch.randint(0, 10, (args.batch,))
    loss_value = 0.0

    def step():
        nonlocal loss_value
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        loss_value = loss.item()

    for _ in range(args.warmup):
        step()
    ms, start = [], time.perf_counter()
    while len(ms) < args.steps:
        t0 = time.perf_counter()
        step()
        ms.append((time.perf_counter() - t0) * 1e3)
        if len(ms) >= 5 and time.perf_counter() - start > args.max_seconds:
            break
    med = statistics.median(ms)
    print(f"{name:<10} median {med:9.3f} ms  min {min(ms):9.3f} ms  "
          f"{args.batch * 1e3 / med:9.1f} images/s  ({len(ms)} steps, loss {loss_value:.3f})",
          flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="cnn,fastnet,resnet20,mlp")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--max-seconds", type=float, default=5.0)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    coretype = os.environ.get("OPENBLAS_CORETYPE", "unset")
    print(f"torch {torch.__version__}: OPENBLAS_CORETYPE={coretype}, "
          f"threads {torch.get_num_threads()}, batch {args.batch}")
    for name in args.models.split(","):
        time_model(name, args)


if __name__ == "__main__":
    main()

"""BYOL's reference training step (byol-t, byol-s) in PyTorch, written to be the same
computation as Graft's compiled step (models/BYOL.swift, models/ResNet.swift,
Sources/GraftPasses/LARS.swift, EMAUpdate.swift):

- encoder: ResNet-S/-T (stem conv3x3 no bias → BN → ReLU, BasicBlocks, global average pool);
- projector and predictor: Linear(bias) → BN → ReLU → Linear(no bias);
- BatchNorm in training mode everywhere (online and target), eps 1e-5, momentum 0.1,
  running variance from the unbiased batch variance, each view through the networks on its own;
- loss: nmse(q(g(f(v1))), target(v2)) + nmse(q(g(f(v2))), target(v1)), nmse = mean(2 − 2·cos),
  l2-normalisation x·rsqrt(max(Σx², 1e-12));
- LARS: u = g + wd·w, trust η‖w‖/‖u‖ (1 where a norm is 0), m ← 0.9·m + trust·u, w ← w − lr·m;
  biases and BN params: m ← 0.9·m + g;
- EMA: ξ ← τ·ξ + (1 − τ)·θ_new for the target's encoder and projector params.

Variables are named as in Graft's IR (`online.encoder.stem.conv.weight`,
`target.projector.bn.running_var`, `optimizer.online.encoder.stem.conv.weight.momentum`), so a
state dict from here loads into `graft run --variables` and back.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIGS = {
    # name: (stem width, stage widths, blocks per stage, hidden, projection, batch)
    "byol-t": (16, [16, 32, 64], [1, 1, 1], 256, 64, 128),
    "byol-s": (32, [32, 64, 128], [2, 2, 2], 512, 128, 256),
}

MOMENTUM, TRUST, WEIGHT_DECAY = 0.9, 1e-3, 1.5e-6


def conv(cin, cout, k, stride=1, padding=0):
    layer = nn.Conv2d(cin, cout, k, stride=stride, padding=padding, bias=False)
    # Graft's Conv2D: Kaiming normal with fan-out (torchvision's ResNet convention).
    nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
    return layer


def batch_norm(features, dims):
    # PyTorch's defaults are Graft's: eps 1e-5, momentum 0.1, scale 1, offset 0.
    return (nn.BatchNorm2d if dims == 4 else nn.BatchNorm1d)(features)


class Stem(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = conv(cin, cout, 3, padding=1)
        self.bn = batch_norm(cout, 4)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Shortcut(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv = conv(cin, cout, 1, stride=stride)
        self.bn = batch_norm(cout, 4)

    def forward(self, x):
        return self.bn(self.conv(x))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = conv(cin, cout, 3, stride=stride, padding=1)
        self.bn1 = batch_norm(cout, 4)
        self.conv2 = conv(cout, cout, 3, padding=1)
        self.bn2 = batch_norm(cout, 4)
        self.shortcut = Shortcut(cin, cout, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        residual = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        skip = self.shortcut(x) if self.shortcut is not None else x
        return F.relu(residual + skip)


class ResNet(nn.Module):
    def __init__(self, stem, widths, blocks):
        super().__init__()
        self.stem = Stem(1, stem)
        channels = stem
        self.names = []
        for stage, (width, count) in enumerate(zip(widths, blocks)):
            module = nn.Module()
            for index in range(count):
                stride = 2 if stage > 0 and index == 0 else 1
                module.add_module(f"block{index}", BasicBlock(channels, width, stride))
                channels = width
            self.add_module(f"stage{stage + 1}", module)
            self.names.append((f"stage{stage + 1}", count))

    def forward(self, x):
        h = self.stem(x)
        for stage, count in self.names:
            module = getattr(self, stage)
            for index in range(count):
                h = getattr(module, f"block{index}")(h)
        return h.mean(dim=(2, 3))


class MLP(nn.Module):
    def __init__(self, cin, hidden, cout):
        super().__init__()
        self.fc1 = nn.Linear(cin, hidden)  # PyTorch's default init is Graft's: U(±1/√fan-in)
        self.bn = batch_norm(hidden, 2)
        self.fc2 = nn.Linear(hidden, cout, bias=False)

    def forward(self, x):
        return self.fc2(F.relu(self.bn(self.fc1(x))))


class Network(nn.Module):
    """Encoder, projector and (online only) predictor."""

    def __init__(self, model, predictor):
        super().__init__()
        stem, widths, blocks, hidden, projection, _ = CONFIGS[model]
        self.encoder = ResNet(stem, widths, blocks)
        self.projector = MLP(widths[-1], hidden, projection)
        self.predictor = MLP(projection, hidden, projection) if predictor else None

    def forward(self, x):
        z = self.projector(self.encoder(x))
        return z, (self.predictor(z) if self.predictor is not None else z)


def l2_normalize(x):
    return x * torch.rsqrt(torch.clamp((x * x).sum(dim=-1, keepdim=True), min=1e-12))


def normalized_mse(p, z):
    return (2 - 2 * (l2_normalize(p) * l2_normalize(z)).sum(dim=-1)).mean()


def collapse_monitor(z):
    n = l2_normalize(z)
    centered = n - n.mean(dim=0, keepdim=True)
    return torch.sqrt((centered * centered).mean(dim=0)).mean()


def byol_loss(online, target, view1, view2):
    """The symmetric loss and the collapse monitor; the target runs without gradients."""
    z1, p1 = online(view1)
    _, p2 = online(view2)
    with torch.no_grad():
        t1, _ = target(view1)
        t2, _ = target(view2)
    return normalized_mse(p1, t2) + normalized_mse(p2, t1), collapse_monitor(z1.detach())


def is_excluded(name):
    """Biases and BatchNorm params skip weight decay and the trust ratio (Graft: role bias or
    normalization)."""
    return name.endswith(".bias") or ".bn." in name or ".bn1." in name or ".bn2." in name


class BYOLStep:
    """One BYOL training step: loss and gradients, LARS, EMA, BN statistics (in the forward)."""

    def __init__(self, model, seed=0, channels_last=False, compile=False, dtype=torch.float32):
        torch.manual_seed(seed)
        self.online = Network(model, predictor=True).to(dtype)
        self.target = Network(model, predictor=False).to(dtype)  # initialised independently, as in Graft
        self.dtype = dtype
        if channels_last:
            self.online = self.online.to(memory_format=torch.channels_last)
            self.target = self.target.to(memory_format=torch.channels_last)
        self.channels_last = channels_last
        named = list(self.online.named_parameters())
        self.decayed = [(n, p) for n, p in named if not is_excluded(n)]
        self.excluded = [(n, p) for n, p in named if is_excluded(n)]
        self.momentum = {n: torch.zeros_like(p) for n, p in named}
        online_params = dict(named)
        self.ema_pairs = [(p, online_params[n]) for n, p in self.target.named_parameters()]
        self.loss_fn = byol_loss
        self.update_fn = self._update
        if compile:
            self.loss_fn = torch.compile(byol_loss)
            self.update_fn = torch.compile(self._update)

    @torch.no_grad()
    def _update(self, lr, tau):
        if self.decayed:
            params = [p for _, p in self.decayed]
            grads = [p.grad for p in params]
            bufs = [self.momentum[n] for n, _ in self.decayed]
            u = torch._foreach_add(grads, params, alpha=WEIGHT_DECAY)
            pn = torch._foreach_norm(params)
            un = torch._foreach_norm(u)
            trust = [torch.where(a > 0, torch.where(b > 0, TRUST * a / b, 1.0), 1.0) for a, b in zip(pn, un)]
            torch._foreach_mul_(u, trust)
            torch._foreach_mul_(bufs, MOMENTUM)
            torch._foreach_add_(bufs, u)
            torch._foreach_sub_(params, torch._foreach_mul(bufs, lr))
        params = [p for _, p in self.excluded]
        bufs = [self.momentum[n] for n, _ in self.excluded]
        torch._foreach_mul_(bufs, MOMENTUM)
        torch._foreach_add_(bufs, [p.grad for p in params])
        torch._foreach_sub_(params, torch._foreach_mul(bufs, lr))
        targets = [t for t, _ in self.ema_pairs]
        torch._foreach_mul_(targets, tau)
        torch._foreach_add_(targets, torch._foreach_mul([o for _, o in self.ema_pairs], 1 - tau))

    def step(self, view1, view2, lr, tau):
        view1, view2 = view1.to(self.dtype), view2.to(self.dtype)
        if self.channels_last:
            view1 = view1.contiguous(memory_format=torch.channels_last)
            view2 = view2.contiguous(memory_format=torch.channels_last)
        for p in self.online.parameters():
            p.grad = None
        loss, monitor = self.loss_fn(self.online, self.target, view1, view2)
        loss.backward()
        self.update_fn(lr, tau)
        return loss.detach(), monitor

    # Variables named as in Graft's IR.
    def variables(self):
        out = {}
        for prefix, net in (("online.", self.online), ("target.", self.target)):
            for n, t in net.state_dict().items():
                if not n.endswith("num_batches_tracked"):
                    out[prefix + n] = t.detach().contiguous().clone()
        for n, m in self.momentum.items():
            out[f"optimizer.online.{n}.momentum"] = m.detach().contiguous().clone()
        return out

    def load_variables(self, values):
        with torch.no_grad():
            for prefix, net in (("online.", self.online), ("target.", self.target)):
                for n, t in net.state_dict().items():
                    if not n.endswith("num_batches_tracked"):
                        t.copy_(values[prefix + n])
            for n, m in self.momentum.items():
                m.copy_(values[f"optimizer.online.{n}.momentum"])


def online_param_count(step):
    return sum(p.numel() for p in step.online.parameters())


def default_lr(model):
    return 0.2 * CONFIGS[model][5] / 256


def tau_at_start():
    return 0.99  # τ_base; the cosine schedule starts there


assert math.isclose(default_lr("byol-s"), 0.2)

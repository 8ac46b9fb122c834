"""Week 12: reference kernels against independent oracles; the
transfer-learning helpers (freezing, checkpoints) on tiny data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from answers.kernels import week12 as k
from grader.train import CheckpointMismatch, load_checkpoint, save_checkpoint



# Oracles: torch.nn modules and PyTorch's own parameter counting --------------------------
def torch_block(c: int, weights: tuple[torch.Tensor, ...]) -> nn.Module:
    """The same block assembled from nn.Conv2d / nn.BatchNorm2d in training mode."""
    w1, g1, b1, w2, g2, b2 = weights
    conv1, conv2 = (nn.Conv2d(c, c, 3, padding=1, bias=False).double() for _ in range(2))
    bn1, bn2 = (nn.BatchNorm2d(c).double().train() for _ in range(2))
    with torch.no_grad():
        for module, value in ((conv1.weight, w1), (bn1.weight, g1), (bn1.bias, b1),
                              (conv2.weight, w2), (bn2.weight, g2), (bn2.bias, b2)):
            module.copy_(value)

    class Block(nn.Module):
        def forward(self, x):
            return torch.relu(bn2(conv2(torch.relu(bn1(conv1(x))))) + x)

    return Block()


@pytest.mark.w12_residual_block_forward
@given(st.integers(1, 4), st.integers(1, 3), st.integers(1, 5), st.integers(1, 5),
       st.integers(0, 2**31 - 1))
@settings(max_examples=30, deadline=None)
def test_residual_block_matches_torch_modules(n, c, h, w, seed):
    if n * h * w < 2:  # batch norm needs two values per channel in training mode
        n = 2
    g = torch.Generator().manual_seed(seed)
    rand = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64)  # noqa: E731
    x = rand(n, c, h, w)
    weights = (rand(c, c, 3, 3), 1 + rand(c), rand(c), rand(c, c, 3, 3), 1 + rand(c), rand(c))
    expected = torch_block(c, weights)(x).detach()
    got = k.residual_block_forward(x, *weights)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.w12_residual_block_forward
def test_model_blocks_are_the_graded_block_in_training_mode():
    block = k.ResidualBlock(3, 3).double().train()
    x = torch.randn(4, 3, 5, 5, dtype=torch.float64)
    with torch.no_grad():
        for bn in (block.bn1, block.bn2):
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.5, 0.5)
        expected = block(x)
    got = k.residual_block_forward(x, block.conv1.weight, block.bn1.weight, block.bn1.bias,
                                   block.conv2.weight, block.bn2.weight, block.bn2.bias)
    torch.testing.assert_close(got.detach(), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.w12_count_trainable_params
@given(st.lists(st.sampled_from([4, 8, 12, 16]), min_size=1, max_size=5).map(sorted),
       st.integers(1, 3), st.integers(1, 12), st.data())
@settings(max_examples=40, deadline=None)
def test_param_count_matches_pytorch(widths, in_channels, n_classes, data):
    n_frozen = data.draw(st.integers(0, len(widths)))
    model = k.SmallResNet(widths, n_classes, in_channels)
    k.freeze_stages(model, n_frozen)
    expected = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert k.count_trainable_params(np.array(widths), in_channels, n_classes, n_frozen) == expected


@pytest.mark.w12_count_trainable_params
def test_this_weeks_resnet_size():
    assert k.trainable_count(k.SmallResNet()) == 38_101
    assert k.count_trainable_params(np.array([16, 16, 32, 32]), 1, 5, 4) == 32 * 5 + 5


@pytest.mark.w12_layerwise_learning_rates
@given(st.integers(1, 10), st.floats(1e-6, 1.0), st.floats(0.05, 1.0), st.data())
@settings(deadline=None)
def test_layerwise_rates_properties(n_groups, base_lr, decay, data):
    n_frozen = data.draw(st.integers(0, n_groups - 1))
    lrs = k.layerwise_learning_rates(n_groups, base_lr, decay, n_frozen)
    assert lrs.shape == (n_groups,)
    assert lrs[-1] == pytest.approx(base_lr)
    assert np.all(lrs[:n_frozen] == 0)
    trainable = lrs[n_frozen:]
    np.testing.assert_allclose(trainable[:-1], trainable[1:] * decay, rtol=1e-12)


@pytest.mark.w12_layerwise_learning_rates
def test_layerwise_rates_drive_torch_param_groups():
    model = k.SmallResNet()
    lrs = k.layerwise_learning_rates(len(model.param_groups()), 1e-3, 0.5, 1)
    groups = [{"params": g, "lr": float(lr)} for g, lr in zip(model.param_groups(), lrs) if lr]
    optimizer = torch.optim.SGD(groups)
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx(
        [1e-3 * 0.5 ** i for i in (3, 2, 1, 0)])


# The transfer-learning helpers ------------------------------------------------------------
def test_frozen_stages_keep_their_batch_norm_statistics():
    model = k.SmallResNet()
    model.train()
    k.freeze_stages(model, 2)
    before = {name: t.clone() for name, t in model.state_dict().items()}
    model(torch.randn(8, 1, 28, 28)).sum().backward()
    after = model.state_dict()
    stem_stats = [n for n in before if n.startswith(("stages.0.", "stages.1.")) and "running" in n]
    assert stem_stats and all(torch.equal(before[n], after[n]) for n in stem_stats)
    assert not torch.equal(before["stages.2.bn1.running_mean"], after["stages.2.bn1.running_mean"])
    assert all(p.grad is None for p in model.stages[0].parameters())


def test_loading_a_checkpoint_into_a_different_head_explains_itself(tmp_path):
    path = save_checkpoint(tmp_path / "resnet.pt", k.SmallResNet(n_classes=5))
    with pytest.raises(CheckpointMismatch, match=r"head.weight: checkpoint \(5, 32\) vs model "
                                                 r"\(10, 32\)"):
        load_checkpoint(path, k.SmallResNet(n_classes=10))
    load_checkpoint(path, k.SmallResNet(n_classes=5))  # same shapes load fine


def test_labelled_subset_takes_n_per_class_and_depends_on_the_seed():
    y = torch.arange(100) % 5
    subset = k.labelled_subset(y, 3, seed=0)
    assert torch.bincount(y[subset]).tolist() == [3] * 5
    assert not torch.equal(subset, k.labelled_subset(y, 3, seed=1))
    assert len(k.labelled_subset(y, None, seed=0)) == 100


def test_transfer_strategies_run_on_tiny_data():
    rng = np.random.default_rng(0)
    X = rng.random((200, 1, 28, 28), dtype=np.float32)
    y = np.arange(200) % 10
    data = k.transfer_data(X, y, X[:50], y[:50])
    assert set(data.target_train[1].tolist()) == set(range(5))
    pretrained = k.SmallResNet()
    config = k.TransferConfig(steps=2, batch_size=8)
    counts = {}
    for strategy in k.STRATEGIES:
        result = k.transfer_run(strategy, pretrained, data, 2, seed=0, config=config)
        assert 0 <= result["accuracy"] <= 1
        counts[strategy] = result["trainable"]
    assert counts["frozen"] == 32 * 5 + 5 < counts["finetune"] == counts["scratch"] == 38_101


# The fine-tuning loop's pieces ---------------------------------------------------------
def _pretrained(widths=(4, 4, 8), n_source=3, seed=0) -> k.SmallResNet:
    from grader.checks.week12 import resnet_state

    model = k.SmallResNet(widths, n_source).double()
    state = resnet_state(np.random.default_rng(seed), widths, n_source)
    k.load_flat_state(model, [torch.from_numpy(a) for a in state])
    return model


@pytest.mark.w12_prepare_finetuning
@pytest.mark.parametrize("widths", [(4, 4, 8), (3, 6, 6), (4, 8)])
def test_case_states_follow_the_state_dict_order(widths):
    from grader.checks.week12 import resnet_state

    model = k.SmallResNet(widths, 3)
    shapes = [tuple(t.shape) for name, t in model.state_dict().items()
              if not name.endswith("num_batches_tracked")]
    assert shapes == [a.shape for a in resnet_state(np.random.default_rng(0), widths, 3)]


@pytest.mark.w12_prepare_finetuning
def test_prepare_finetuning_updates_each_group_at_its_rate_and_freezes_batch_norm():
    torch.manual_seed(0)
    model = _pretrained()
    lrs = [0.0, 1e-3, 1e-2, 1e-1]
    optimizer = k.prepare_finetuning(model, 4, lrs)
    assert model.head.out_features == 4 and model.head.weight.dtype == torch.float64
    x = torch.randn(6, 1, 8, 8, dtype=torch.float64)
    y = torch.randint(0, 4, (6,))
    stem_stats = model.stages[0][1].running_mean.clone()
    block_stats = model.stages[1].bn1.running_mean.clone()
    groups = [list(m.parameters()) for m in (*model.stages, model.head)]
    before = [[p.detach().clone() for p in g] for g in groups]
    loss = nn.functional.cross_entropy(model(x), y)
    trainable = [p for g in groups[1:] for p in g]
    grads = torch.autograd.grad(loss, trainable, retain_graph=True)  # the oracle: autograd alone
    assert all(not p.requires_grad for p in groups[0])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    grads = iter(grads)
    for g, (group, old) in enumerate(zip(groups, before)):
        for p, p_old in zip(group, old):
            step = p_old - lrs[g] * next(grads) if g else p_old
            torch.testing.assert_close(p.detach(), step, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(model.stages[0][1].running_mean, stem_stats, rtol=0, atol=0)
    assert not torch.allclose(model.stages[1].bn1.running_mean, block_stats)


@pytest.mark.w12_finetune_step
def test_finetune_step_trains_with_batch_stats_but_keeps_frozen_stats():
    model = _pretrained()
    twin = _pretrained()
    x = torch.randn(5, 1, 8, 8, dtype=torch.float64)
    y = torch.randint(0, 3, (5,))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.eval()
    stem_stats = model.stages[0][1].running_var.clone()
    loss = k.finetune_step(model, optimizer, x, y, n_frozen=1)
    # Oracle: the same network with the modes set by hand (stem eval, the rest train).
    twin.train()
    twin.stages[0].eval()
    expected = nn.functional.cross_entropy(twin(x), y).item()
    assert loss == pytest.approx(expected, rel=1e-12)
    torch.testing.assert_close(model.stages[0][1].running_var, stem_stats, rtol=0, atol=0)
    assert not model.stages[0].training and model.stages[1].training and model.head.training

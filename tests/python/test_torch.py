"""aaren.torch: the library's encoder as a torch Module. gradcheck in float64 through the
library's float64 build; the same outputs and gradients as the PyTorch twin and as
aaren.Model; training with a torch optimizer; errors."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import aaren  # noqa: E402
import aaren.torch as at  # noqa: E402
import aaren_twin  # noqa: E402

CONFIGS = [dict(arch="aaren", norm="post"), dict(arch="aaren", norm="pre", activation="relu"),
           dict(arch="transformer", norm="post")]
TINY = dict(d_model=8, n_heads=2, n_layers=2, d_ff=12)


@pytest.mark.parametrize("cfg", CONFIGS)
def test_gradcheck_float64(cfg):
    enc = at.AarenEncoder(**TINY, **cfg, seed=2, dtype=torch.float64)
    x = torch.randn(2, 5, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(1), requires_grad=True)
    fn = lambda x, p: at.EncoderFunction.apply(x, p, enc)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, enc.params), eps=1e-6, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("cfg", CONFIGS)
def test_same_as_the_twin(tmp_path, cfg):
    enc = at.AarenEncoder(**TINY, **cfg, seed=4, dtype=torch.float64)
    enc.save(tmp_path / "m.safetensors")
    twin = aaren_twin.with_dtype(aaren_twin.load_encoder(tmp_path / "m.safetensors"), torch.float64)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 7, 8))
    g = rng.standard_normal((3, 7, 8))
    ref = aaren_twin.grad(twin, x, g)
    xt = torch.tensor(x, requires_grad=True)
    y = enc(xt)
    assert np.allclose(y.detach().numpy(), aaren_twin.encode(twin, x), rtol=0, atol=1e-10)
    (y * torch.tensor(g)).sum().backward()
    assert np.allclose(xt.grad.numpy(), ref["input"], rtol=0, atol=1e-10)
    grads = enc.named_grads()
    assert set(grads) == set(ref) - {"input"}
    for k, v in grads.items():
        assert np.allclose(v.numpy(), ref[k], rtol=1e-9, atol=1e-10), k


def test_float32_matches_model_and_its_grad():
    m = aaren.Model.init(**TINY, seed=5)
    enc = at.AarenEncoder.from_model(m)
    x = np.random.default_rng(1).standard_normal((2, 6, 8)).astype(np.float32)
    g = np.random.default_rng(2).standard_normal((2, 6, 8)).astype(np.float32)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    y = enc(xt)
    assert np.array_equal(y.detach().numpy(), m.encode(x))
    (y * torch.from_numpy(g)).sum().backward()
    ref = m.grad(x, g)
    assert np.array_equal(xt.grad.numpy(), ref["input"])
    for k, v in enc.named_grads().items():
        assert np.array_equal(v.numpy(), ref[k]), k
    # [N, D] input
    assert torch.allclose(enc(torch.from_numpy(x[0])), y[0].detach(), atol=1e-5)


def test_two_forwards_before_backward():
    enc = at.AarenEncoder(**TINY, seed=6, dtype=torch.float64)
    x1 = torch.randn(1, 4, 8, dtype=torch.float64, requires_grad=True)
    x2 = torch.randn(2, 9, 8, dtype=torch.float64, requires_grad=True)
    (enc(x1).sum() + enc(x2).square().sum()).backward()
    g1, g2, gp = x1.grad.clone(), x2.grad.clone(), enc.params.grad.clone()
    enc.zero_grad()
    x1.grad = x2.grad = None
    enc(x1).sum().backward()
    enc(x2).square().sum().backward()
    assert torch.allclose(x1.grad, g1, atol=1e-12) and torch.allclose(x2.grad, g2, atol=1e-12)
    assert torch.allclose(enc.params.grad, gp, atol=1e-10)


def test_trains_with_a_torch_optimizer():
    torch.manual_seed(0)
    enc = at.AarenEncoder(**TINY, seed=1)
    head = torch.nn.Linear(8, 1)
    opt = torch.optim.Adam(list(enc.parameters()) + list(head.parameters()), lr=1e-2)
    x = torch.randn(16, 10, 8)
    target = x[..., :1].cumsum(1) / 3          # a running sum: needs the attention over the past
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(head(enc(x)), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    # the module's weights reach a library model (and its stream) intact
    with enc.to_model() as m:
        assert np.array_equal(m.encode(x[0].numpy()), enc(x[0]).detach().numpy())


def test_errors():
    enc = at.AarenEncoder(**TINY)
    with pytest.raises(TypeError, match="float64 but the parameters are torch.float32"):
        enc(torch.zeros(1, 3, 8, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"must be \[B, N, 8\]"):
        enc(torch.zeros(1, 3, 7))
    with pytest.raises(TypeError, match="torch.Tensor"):
        enc(np.zeros((1, 3, 8), np.float32))
    with pytest.raises(KeyError, match="no tensor"):
        enc.tensor("nope")
    with pytest.raises(aaren.AarenError, match="n_heads|divisible|heads"):
        at.AarenEncoder(d_model=8, n_heads=3)
    assert enc.tensor("layers.0.attn.q_proj.weight").shape == (8, 8)


def test_attention_gradcheck_and_twin():
    att = at.AarenAttention(d_model=8, n_heads=2, seed=3, dtype=torch.float64)
    x = torch.randn(2, 6, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(5), requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, p: at.EncoderFunction.apply(x, p, att), (x, att.params),
                                    eps=1e-6, atol=1e-6, rtol=1e-5)
    tw = aaren_twin.AarenAttention(8, 2).double()
    tw.load_state_dict({k: v.detach().clone() for k, v in att.named_tensors().items()})
    g = torch.randn(2, 6, 8, dtype=torch.float64)
    y = att(x)
    yt, _ = tw(x, "scan")
    assert torch.allclose(y, yt, rtol=0, atol=1e-12)
    (y * g).sum().backward()
    dx = x.grad.clone()
    x.grad = None
    (yt * g).sum().backward()
    assert torch.allclose(dx, x.grad, rtol=0, atol=1e-12)
    for k, v in att.named_grads().items():
        assert torch.allclose(v, dict(tw.named_parameters())[k].grad, rtol=1e-10, atol=1e-12), k


def test_attention_float32_is_the_encoders_attention():
    # the layer's weights are an encoder's layers.0.attn.*; float32 output close to the float64 one
    att = at.AarenAttention(d_model=16, n_heads=4, seed=7)
    with aaren.Model.init(d_model=16, n_heads=4, n_layers=1, d_ff=1, seed=7) as m:
        p = m.parameters()
        for k, v in att.named_tensors().items():
            assert np.array_equal(v.detach().numpy(), p["layers.0.attn." + k]), k
    x = torch.randn(3, 20, 16)
    y32 = att(x)
    y64 = att.double()(x.double())
    assert torch.allclose(y32.double(), y64, atol=1e-5)
    with pytest.raises(aaren.AarenError, match="heads"):
        at.AarenAttention(d_model=10, n_heads=4)

"""aaren.Model and the streams against the command-line tool on the same files, and the
errors a Python user can provoke (each must be an exception, never a crash)."""
import os

import numpy as np
import pytest

import aaren
from conftest import read_safetensors, rel_err, run

SMALL = dict(d_model=16, n_heads=2, n_layers=2, d_ff=32)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.fixture(params=["aaren", "transformer"])
def arch(request):
    return request.param


@pytest.fixture
def model_file(tmp_path, cli, arch):
    path = tmp_path / "m.safetensors"
    run([cli, "init", "--arch", arch, "--d-model", 16, "--n-heads", 2, "--n-layers", 2, "--d-ff", 32, "--seed", 7,
         "--output", path])
    return path


@pytest.mark.parametrize("mode", ["scan", "stream", "naive"])
def test_encode_equals_the_tool(tmp_path, cli, model_file, mode):
    x = rand(3, 40, 16)
    np.save(tmp_path / "x.npy", x)
    run([cli, "encode", "--model", model_file, "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npy",
         "--mode", mode])
    want = np.load(tmp_path / "y.npy")
    with aaren.Model.load(model_file) as m:
        got = m.encode(x, mode=mode)
        assert got.shape == x.shape and got.dtype == np.float32
        assert rel_err(got, want) < 1e-6
        assert rel_err(m.encode(x[1], mode=mode), want[1]) < 1e-6   # one sequence [N, d_model]


def test_grad_equals_the_tool(tmp_path, cli, model_file):
    x, g = rand(2, 30, 16, seed=1), rand(2, 30, 16, seed=2)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "g.npy", g)
    run([cli, "grad", "--model", model_file, "--input", tmp_path / "x.npy", "--grad-output", tmp_path / "g.npy",
         "--output", tmp_path / "d.safetensors"])
    want = read_safetensors(tmp_path / "d.safetensors")
    with aaren.Model.load(model_file) as m:
        got = m.grad(x, g)
        assert sorted(got) == sorted(want)
        for name in want:
            assert got[name].shape == want[name].shape, name
            assert rel_err(got[name], want[name]) < 1e-5, name
        again = m.grad(x, g)   # gradients are zeroed between calls, not accumulated
        assert rel_err(again["input"], got["input"]) == 0


def test_init_save_load_and_the_tool_agree(tmp_path, cli, arch):
    m = aaren.Model.init(arch=arch, seed=7, **SMALL)
    run([cli, "init", "--arch", arch, "--d-model", 16, "--n-heads", 2, "--n-layers", 2, "--d-ff", 32, "--seed", 7,
         "--output", tmp_path / "tool.safetensors"])
    tool = read_safetensors(tmp_path / "tool.safetensors")
    params = m.parameters()
    assert sorted(params) == sorted(tool)
    for name, v in tool.items():
        assert np.array_equal(params[name], v), name
    m.save(tmp_path / "py.safetensors")
    info = run([cli, "info", tmp_path / "py.safetensors"]).stdout
    assert f"arch          {arch}" in info and "d_model       16" in info
    m2 = aaren.Model.load(tmp_path / "py.safetensors")
    assert m2.config == m.config and m2.n_params == m.n_params
    x = rand(25, 16)
    assert np.array_equal(m2.encode(x), m.encode(x))


def test_parameters_are_views(arch):
    m = aaren.Model.init(arch=arch, seed=3, **SMALL)
    x = rand(10, 16)
    before = m.encode(x)
    p = m.parameters()
    p["layers.0.ffn.fc2.bias"][:] += rand(16, seed=9)   # writes into the model's own memory
    after = m.encode(x)
    assert rel_err(after, before) > 1e-3
    assert np.shares_memory(p["layers.0.ffn.fc2.bias"], m.parameters()["layers.0.ffn.fc2.bias"])


def test_stream_steps_prefill_and_state(arch):
    m = aaren.Model.init(arch=arch, seed=5, **SMALL)
    x = rand(60, 16, seed=4)
    want = m.encode(x)
    s = aaren.Stream(m, max_tokens=100)
    steps = np.stack([s.step(x[t]) for t in range(60)])
    assert rel_err(steps, want) < 1e-5
    assert s.position() == 60
    if arch == "aaren":
        assert s.state_bytes() == 2 * 2 * (8 + 2) * 4   # layers x heads x (d_h + 2) floats
    s.reset()
    y = s.prefill(x[:40])
    assert rel_err(y, want[:40]) < 1e-5
    saved = s.state()
    tail = np.stack([s.step(x[t]) for t in range(40, 60)])
    assert rel_err(tail, want[40:]) < 1e-5
    s2 = aaren.Stream(m, max_tokens=100)
    s2.set_state(saved)
    assert s2.position() == 40
    assert np.array_equal(np.stack([s2.step(x[t]) for t in range(40, 60)]), tail)


def test_batch_stream(arch):
    m = aaren.Model.init(arch=arch, seed=6, **SMALL)
    x = rand(3, 20, 16, seed=8)
    want = m.encode(x)
    b = aaren.BatchStream(m, 3, max_tokens=40)
    got = np.stack([b.step(np.ascontiguousarray(x[:, t])) for t in range(20)], axis=1)
    assert rel_err(got, want) < 1e-5
    b.reset(1)
    assert b.position(1) == 0 and b.position(0) == 20
    y = b.step_some([1], x[1, :1])
    assert rel_err(y, want[1, :1]) < 1e-5
    one = b.state(2)
    b.reset()
    b.set_state(one, 0)   # a record of stream 2 loads into stream 0
    assert b.position(0) == 20


def test_wrong_inputs_raise(tmp_path):
    m = aaren.Model.init(seed=1, **SMALL)
    with pytest.raises(TypeError, match="float32"):
        m.encode(np.zeros((4, 16)))                    # float64
    with pytest.raises(TypeError):
        m.encode([[0.0] * 16])                          # not an array
    with pytest.raises(ValueError, match="16"):
        m.encode(np.zeros((4, 15), np.float32))         # width
    with pytest.raises(ValueError):
        m.encode(np.zeros((1, 2, 3, 16), np.float32))   # dimensions
    with pytest.raises(ValueError):
        m.encode(np.zeros((0, 16), np.float32))
    with pytest.raises(ValueError):
        m.encode(np.zeros((4, 16), np.float32), mode="bogus")
    with pytest.raises(ValueError):
        m.grad(np.zeros((4, 16), np.float32), np.zeros((5, 16), np.float32))
    with pytest.raises(ValueError):
        aaren.Model.init(arch="rnn")
    with pytest.raises(aaren.AarenError, match="n_heads|divide|heads"):
        aaren.Model.init(d_model=16, n_heads=3, n_layers=1, d_ff=8)
    s = aaren.Stream(m)
    with pytest.raises(ValueError):
        s.step(np.zeros(15, np.float32))
    with pytest.raises(aaren.AarenError):
        s.set_state(b"not a state")
    with pytest.raises(IndexError):
        aaren.BatchStream(m, 2).prefill(2, np.zeros((3, 16), np.float32))
    # Non-contiguous float32 is accepted (copied), with the same result.
    x = rand(8, 32)[:, ::2]
    assert np.array_equal(m.encode(x), m.encode(np.ascontiguousarray(x)))


def test_library_errors_carry_the_message(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00{}")
    with pytest.raises(aaren.AarenError, match="bad.safetensors"):
        aaren.Model.load(bad)
    with pytest.raises(aaren.AarenError, match="missing.safetensors"):
        aaren.Model.load(tmp_path / "missing.safetensors")
    m = aaren.Model.init(arch="transformer", seed=1, **SMALL)
    s = aaren.Stream(m, max_tokens=3)
    for _ in range(3):
        s.step(np.zeros(16, np.float32))
    with pytest.raises(aaren.AarenError, match="cache|full|capacity"):
        s.step(np.zeros(16, np.float32))
    with pytest.raises(aaren.AarenError):
        m.save(tmp_path)   # a folder is never replaced
    assert os.path.isdir(tmp_path)


def test_closed_model_and_stream_raise():
    m = aaren.Model.init(seed=1, **SMALL)
    s = aaren.Stream(m)
    b = aaren.BatchStream(m, 2)
    m.close()
    x = np.zeros(16, np.float32)
    with pytest.raises(aaren.AarenError, match="closed"):
        m.encode(x[None])
    with pytest.raises(aaren.AarenError, match="closed"):
        m.parameters()
    with pytest.raises(aaren.AarenError, match="closed"):
        s.step(x)   # the model's streams close with it
    with pytest.raises(aaren.AarenError, match="closed"):
        b.state()
    with pytest.raises(aaren.AarenError, match="closed"):
        aaren.Stream(m)
    m.close()   # twice is fine
    s.close()

"""from_peft (mlprims/adapters/convert.py): the adapters of real peft state dicts, in each of the
forms peft writes them, and the errors for what it cannot convert."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mlprims import from_peft, lora_linear

torch = pytest.importorskip("torch")
peft = pytest.importorskip("peft")


class _Block(torch.nn.Module):
    """Two layers peft adapts ("q", "v") and one it leaves alone ("out")."""

    def __init__(self) -> None:
        super().__init__()
        self.q, self.v, self.out = (
            torch.nn.Linear(4, 3),
            torch.nn.Linear(4, 2),
            torch.nn.Linear(3, 3),
        )

    def forward(self, x: Any) -> Any:
        return self.out(self.q(x)) + self.v(x).sum(-1, keepdim=True)


def _model(**config: Any) -> Any:
    torch.manual_seed(0)
    options = {"r": 2, "lora_alpha": 4, "target_modules": ["q", "v"], **config}
    model = peft.get_peft_model(_Block(), peft.LoraConfig(**options))
    with torch.no_grad():
        for name in ("q", "v"):
            getattr(model.base_model.model, name).lora_B["default"].weight.normal_()
    return model


def _layer(model: Any, name: str) -> Any:
    return getattr(model.base_model.model, name)


class TestFromPeft:
    def test_a_models_state_dict(self) -> None:
        model = _model()
        adapters = from_peft(model.state_dict())
        assert sorted(adapters) == ["q", "v"]
        for name, (d_in, d_out) in (("q", (4, 3)), ("v", (4, 2))):
            layer = _layer(model, name)
            assert adapters[name]["A"].shape == (d_in, 2) and adapters[name]["B"].shape == (
                2,
                d_out,
            )
            assert torch.equal(adapters[name]["A"], layer.lora_A["default"].weight.T)
            assert torch.equal(adapters[name]["B"], layer.lora_B["default"].weight.T)

    def test_the_forward_of_each_layer(self) -> None:
        model = _model()
        adapters = from_peft(model.state_dict(), backend="numpy")
        x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
        for name in ("q", "v"):
            layer = _layer(model, name)
            want = layer(torch.from_numpy(x)).detach().numpy()
            w = layer.base_layer.weight.detach().numpy().T
            b = layer.base_layer.bias.detach().numpy()
            got = lora_linear(x, w, b, adapters[name], alpha=4)
            assert isinstance(got, np.ndarray)
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)

    def test_a_saved_adapter_and_one_layers_state_dict(self) -> None:
        """peft's get_peft_model_state_dict (what save_pretrained writes) names no adapter; a
        layer's own state dict has no path."""
        model = _model()
        saved = peft.get_peft_model_state_dict(model)
        assert "base_model.model.q.lora_A.weight" in saved
        assert sorted(from_peft(saved)) == ["q", "v"]
        own = from_peft(_layer(model, "q").state_dict(), backend="numpy")
        assert list(own) == [""]
        np.testing.assert_array_equal(own[""]["A"], from_peft(saved, backend="numpy")["q"]["A"])

    def test_adapter_name(self) -> None:
        model = _model()
        model.add_adapter("other", peft.LoraConfig(r=3, lora_alpha=3, target_modules=["q"]))
        state = model.state_dict()
        assert from_peft(state, adapter_name="other")["q"]["A"].shape == (4, 3)
        assert sorted(from_peft(state)) == ["q", "v"]
        with pytest.raises(ValueError, match=r"its adapters are \['default', 'other'\]"):
            from_peft(state, adapter_name="missing")

    def test_numpy_state_dicts_and_backends(self, xb) -> None:
        state = {
            "base_model.model.q.lora_A.weight": np.arange(8.0).reshape(2, 4),
            "base_model.model.q.lora_B.weight": np.arange(6.0).reshape(3, 2),
        }
        got = from_peft(state, backend=xb.backend.name)["q"]
        assert isinstance(got["A"], type(xb.asarray(np.zeros(1))))
        np.testing.assert_array_equal(
            xb.to_numpy(got["A"]), state["base_model.model.q.lora_A.weight"].T
        )
        np.testing.assert_array_equal(
            xb.to_numpy(got["B"]), state["base_model.model.q.lora_B.weight"].T
        )

    @pytest.mark.parametrize(
        ("state", "error", "words"),
        [
            ([1, 2], TypeError, "`state_dict` must be a mapping"),
            (
                {"q.weight": np.ones((3, 4))},
                ValueError,
                "holds no LoRA weight of adapter 'default'",
            ),
            ({"q.lora_A.weight": np.ones((2, 4))}, ValueError, "has lora_A but not the other"),
            (
                {"q.lora_A.weight": [[1.0]]},
                TypeError,
                "`state_dict['q.lora_A.weight']` must be an array",
            ),
            (
                {"q.lora_B.bias": np.ones(3)},
                ValueError,
                "LoRA biases (lora_bias=True) are not supported",
            ),
            ({"q.lora_magnitude_vector.default.weight": np.ones(3)}, ValueError, "DoRA"),
            ({"c.lora_A.weight": np.ones((2, 4, 3, 3))}, ValueError, "must be a 2-d Linear weight"),
        ],
    )
    def test_bad_input(self, state, error, words) -> None:
        with pytest.raises(error) as raised:
            from_peft(state)
        assert words in str(raised.value)

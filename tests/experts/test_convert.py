"""from_mixtral (mlprims/experts/convert.py): transformers 5's fused MixtralSparseMoeBlock, the
per-expert layout of Mixtral checkpoint files (what save_pretrained writes), a tiny
MixtralForCausalLM end to end (its MoE layers' outputs, router logits and aux loss), and the
errors for what it cannot convert."""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np
import pytest

from mlprims import from_mixtral, load_balancing_loss, moe

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

D, F, E, K = 8, 6, 4, 2


def _config(**extra: Any) -> Any:
    return transformers.MixtralConfig(
        hidden_size=D, intermediate_size=F, num_local_experts=E, num_experts_per_tok=K,
        experts_implementation="eager", **extra,
    )  # fmt: skip


def _block() -> Any:
    from transformers.models.mixtral.modeling_mixtral import MixtralSparseMoeBlock

    torch.manual_seed(0)
    block = MixtralSparseMoeBlock(_config())
    with torch.no_grad():
        for p in block.parameters():
            p.normal_()
    return block


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, pathlib.Path]:
    """A two-layer MixtralForCausalLM with N(0, 1) weights, saved by save_pretrained."""
    config = _config(
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        vocab_size=16,
        max_position_embeddings=16,
        output_router_logits=True,
    )
    torch.manual_seed(0)
    model = transformers.MixtralForCausalLM(config).eval()
    with torch.no_grad():
        for layer in model.model.layers:
            for p in layer.mlp.parameters():
                p.normal_()
    path = tmp_path_factory.mktemp("mixtral")
    model.save_pretrained(path)
    return model, path / "model.safetensors"


class TestFromMixtral:
    def test_the_fused_block(self) -> None:
        block = _block()
        params = from_mixtral(block.state_dict())
        gate_up, down = block.experts.gate_up_proj.detach(), block.experts.down_proj.detach()
        assert torch.equal(params["w_router"], block.gate.weight.detach().T)
        for e in range(E):
            assert torch.equal(params["w_gate"][e], gate_up[e, :F].T)  # the gate's rows first
            assert torch.equal(params["w_up"][e], gate_up[e, F:].T)
            assert torch.equal(params["w_down"][e], down[e].T)
        assert {k: tuple(v.shape) for k, v in params.items()} == {
            "w_router": (D, E), "w_gate": (E, D, F), "w_up": (E, D, F), "w_down": (E, F, D)
        }  # fmt: skip

    def test_backend_option(self) -> None:
        params = from_mixtral(_block().state_dict(), backend="numpy")
        assert all(isinstance(v, np.ndarray) for v in params.values())

    def test_a_checkpoint_file_and_the_model_end_to_end(self, tiny_model) -> None:
        """save_pretrained writes Mixtral's own layout (block_sparse_moe.experts.<i>.w1/w2/w3):
        converted, each layer equals the loaded model's MoE output and router logits, and the
        loss of the router logits its aux_loss."""
        safetensors = pytest.importorskip("safetensors.numpy")
        model, path = tiny_model
        state = safetensors.load_file(str(path))
        assert "model.layers.1.block_sparse_moe.experts.3.w2.weight" in state
        seen: dict[int, tuple[Any, Any]] = {}
        for i, layer in enumerate(model.model.layers):
            layer.mlp.register_forward_hook(lambda m, a, out, i=i: seen.__setitem__(i, (a[0], out)))
        ids = torch.tensor([[1, 5, 7, 2, 9, 3], [4, 4, 8, 0, 0, 0]])
        mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]])
        with torch.no_grad():
            outputs = model(input_ids=ids, attention_mask=mask)
        ours = []
        for i in range(2):
            params = from_mixtral(state, prefix=f"model.layers.{i}.block_sparse_moe.")
            x, want = (t.numpy() for t in seen[i])
            y, logits = moe(params, x, top_k=K)
            np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(
                logits, outputs.router_logits[i].numpy(), rtol=1e-5, atol=1e-5
            )
            ours.append(logits)
        loss = load_balancing_loss(ours, num_experts=E, top_k=K, attention_mask=mask.numpy())
        np.testing.assert_allclose(loss, outputs.aux_loss.item(), rtol=1e-5)

    def test_both_layouts_give_the_same_parameters(self, tiny_model) -> None:
        model, path = tiny_model
        state = pytest.importorskip("safetensors.numpy").load_file(str(path))
        split = from_mixtral(state, prefix="model.layers.0.block_sparse_moe.")
        fused = from_mixtral(model.state_dict(), prefix="model.layers.0.mlp.", backend="numpy")
        for name, value in fused.items():
            np.testing.assert_array_equal(split[name], value)


class TestFromMixtralBadInput:
    def test_not_a_block(self) -> None:
        with pytest.raises(TypeError, match="`state_dict` must be a mapping"):
            from_mixtral([1, 2])
        with pytest.raises(ValueError, match="holds no Mixtral MoE block"):
            from_mixtral({"lm_head.weight": np.zeros((2, 2))})
        with pytest.raises(TypeError, match=r"`state_dict\['gate.weight'\]` must be an array"):
            from_mixtral({"gate.weight": [[0.0]]})

    def test_several_blocks_need_a_prefix(self, tiny_model) -> None:
        model, _ = tiny_model
        with pytest.raises(ValueError, match=r"holds 2 MoE blocks \('model.layers.0.mlp.', "):
            from_mixtral(model.state_dict())
        with pytest.raises(ValueError, match=r"no MoE block with prefix 'layers\.0\.'"):
            from_mixtral(model.state_dict(), prefix="layers.0.")

    def test_incomplete_or_mixed(self) -> None:
        state = {k: v.numpy() for k, v in _block().state_dict().items()}
        with pytest.raises(ValueError, match=r"no router weight 'gate\.weight'"):
            from_mixtral({k: v for k, v in state.items() if k != "gate.weight"})
        with pytest.raises(ValueError, match=r"no 'experts\.down_proj'"):
            from_mixtral({k: v for k, v in state.items() if k != "experts.down_proj"})
        with pytest.raises(ValueError, match="mixes fused experts"):
            from_mixtral({**state, "experts.0.w1.weight": np.zeros((F, D))})
        split = {"gate.weight": np.zeros((2, D))}
        split.update({f"experts.{i}.{w}.weight": np.zeros((F, D)) for i in range(2)
                      for w in ("w1", "w3")})  # fmt: skip
        split["experts.0.w2.weight"] = np.zeros((D, F))
        with pytest.raises(ValueError, match=r"lacks \['experts.1.w2.weight'\]"):
            from_mixtral(split)
        with pytest.raises(ValueError, match=r"must hold experts 0 to 2 .*got experts \[0, 1\]"):
            from_mixtral({**split, "gate.weight": np.zeros((3, D))})

    def test_shapes(self) -> None:
        state = {k: v.numpy() for k, v in _block().state_dict().items()}
        with pytest.raises(ValueError, match=r"gate_up_proj` must have shape \(E, 2 F, D\)"):
            from_mixtral({**state, "experts.gate_up_proj": np.zeros((E, 2 * F + 1, D))})
        with pytest.raises(
            ValueError, match=r"down_proj` must have shape \(E, D, F\) = \(4, 8, 6\)"
        ):
            from_mixtral({**state, "experts.down_proj": np.zeros((E, F, D))})
        split = {
            "gate.weight": np.zeros((1, D)),
            "experts.0.w1.weight": np.zeros((F, D)),
            "experts.0.w3.weight": np.zeros((F, D)),
            "experts.0.w2.weight": np.zeros((F, D)),  # not (D, F)
        }
        with pytest.raises(ValueError, match=r"w2.weight'\]` must have shape \(8, 6\)"):
            from_mixtral(split)

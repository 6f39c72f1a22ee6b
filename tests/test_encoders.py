"""The pluggable image encoders give pooled features and ImageNet logits."""

import pytest
import torch

from train.encoders import ImageEncoderSpec, build_image_encoder


@pytest.mark.parametrize("name", ["resnet18", "efficientnet_lite0"])
def test_image_encoders_shapes(name):
    spec = ImageEncoderSpec(name, weights="random")
    encoder = build_image_encoder(spec)
    with torch.no_grad():
        pooled, logits = encoder(torch.randn(2, 3, spec.input_size, spec.input_size))
    assert pooled.shape == (2, spec.feature_dim)
    assert logits.shape == (2, 1000)
    assert not any(p.requires_grad for p in encoder.parameters())  # frozen


def test_weights_file_is_loaded(tmp_path):
    import torchvision

    net = torchvision.models.resnet18(weights=None)
    torch.nn.init.constant_(net.fc.bias, 3.0)
    path = tmp_path / "resnet18.pth"
    torch.save(net.state_dict(), path)
    encoder = build_image_encoder(ImageEncoderSpec("resnet18", weights=str(path)))
    bias = encoder.classifier.bias
    assert isinstance(bias, torch.Tensor) and torch.allclose(bias, torch.full((1000,), 3.0))


def test_unknown_encoder_is_rejected():
    with pytest.raises(ValueError, match="unknown image encoder"):
        build_image_encoder(ImageEncoderSpec("vgg16"))

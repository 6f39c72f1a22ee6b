"""The pluggable image encoders give pooled features and ImageNet logits."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from inference.models.config import ImageEncoderSpec
from inference.models.preprocess import IMAGENET_MEAN, IMAGENET_STD, load_image, preprocess
from train.encoders import EncoderError, PooledAndLogits, SideBySide, build_image_encoder, feature_dim
from train.open_nsfw import MEAN_BGR, POOLED_OUTPUT, OpenNsfwTrunk, open_nsfw_onnx


@pytest.mark.parametrize("name", ["resnet18", "efficientnet_lite0", "efficientnet_lite0+open_nsfw"])
def test_image_encoders_shapes(name):
    spec = ImageEncoderSpec(name, weights="random")
    encoder = build_image_encoder(spec)
    with torch.no_grad():
        pooled, logits = encoder(torch.randn(2, 3, spec.input_size, spec.input_size))
    assert pooled.shape == (2, feature_dim(spec))
    assert logits.shape == (2, 1000)
    assert not any(p.requires_grad for p in encoder.parameters())  # frozen


def test_weights_file_is_loaded(tmp_path):
    import torchvision

    net = torchvision.models.resnet18(weights=None)
    torch.nn.init.constant_(net.fc.bias, 3.0)
    path = tmp_path / "resnet18.pth"
    torch.save(net.state_dict(), path)
    encoder = build_image_encoder(ImageEncoderSpec("resnet18", weights=str(path)))
    assert isinstance(encoder, PooledAndLogits)
    bias = encoder.classifier.bias
    assert isinstance(bias, torch.Tensor) and torch.allclose(bias, torch.full((1000,), 3.0))


def test_unknown_encoder_is_rejected():
    with pytest.raises(EncoderError, match="unknown image encoder"):
        build_image_encoder(ImageEncoderSpec("vgg16"))


def test_side_by_side_concatenates_both_backbones_pooled_features():
    spec = ImageEncoderSpec("efficientnet_lite0+open_nsfw", weights="random")
    both = build_image_encoder(spec)
    first = build_image_encoder(ImageEncoderSpec("efficientnet_lite0", weights="random"))
    assert isinstance(both, SideBySide)
    first.load_state_dict(both.first.state_dict())
    pixels = torch.randn(2, 3, spec.input_size, spec.input_size)
    with torch.no_grad():
        (pooled, logits), (own_pooled, own_logits) = both(pixels), first(pixels)
    assert feature_dim(spec) == 1280 + 1024
    assert torch.equal(pooled[:, :1280], own_pooled) and torch.equal(logits, own_logits)


def test_open_nsfw_trunk_matches_the_shipped_onnx_on_real_photos(data_dir):
    """Our pixels, converted to the net's own input (BGR 0-255 minus its means, NHWC),
    give the pooled features the package's ONNX gives."""
    paths = sorted((data_dir / "test_images").glob("*.jpg"))[:4]
    pixels = np.stack([preprocess(load_image(p), 224) for p in paths])  # [4, 3, 224, 224]
    with torch.no_grad():
        ours = OpenNsfwTrunk()(torch.from_numpy(pixels)).numpy()
    model = onnx.load(str(open_nsfw_onnx()))
    model.graph.output.append(onnx.helper.make_empty_tensor_value_info(POOLED_OUTPUT))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    rgb = (pixels.transpose(0, 2, 3, 1) * IMAGENET_STD + IMAGENET_MEAN) * 255.0
    their_input = np.ascontiguousarray(rgb[..., ::-1] - np.array(MEAN_BGR, np.float32), dtype=np.float32)
    (theirs,) = session.run([POOLED_OUTPUT], {session.get_inputs()[0].name: their_input})
    assert ours.shape == (4, 1024)
    np.testing.assert_allclose(ours, theirs, atol=1e-4 * np.abs(theirs).max())

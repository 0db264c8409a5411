"""Data sets: shapes, labels, seeds, the generators' geometry, and the CSV reader."""

from __future__ import annotations

import numpy as np
import pytest

from viz.errors import StudioError
from viz.training.datasets import DATASETS, LINE_SLOPE, load_csv, make_dataset


@pytest.mark.parametrize("name", DATASETS)
def test_every_dataset_has_the_promised_shape_and_split(name: str) -> None:
    data = make_dataset(name, samples=200, noise=0.1, seed=3, test_fraction=0.25)
    assert len(data.x_train) == 150 and len(data.x_test) == 50
    assert data.x_train.dtype == np.float32
    assert data.input_dim == (1 if name == "line" else 2)
    if name == "line":
        assert data.task == "regression" and data.y_train.dtype == np.float32
    else:
        assert data.task == "binary"
        assert set(np.unique(np.concatenate([data.y_train, data.y_test]))) == {0, 1}


@pytest.mark.parametrize("name", DATASETS)
def test_same_seed_same_points_other_seed_other_points(name: str) -> None:
    a, b = make_dataset(name, seed=5), make_dataset(name, seed=5)
    c = make_dataset(name, seed=6)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, c.x_train)


def test_noise_free_geometry() -> None:
    line = make_dataset("line", samples=100, noise=0.0)
    np.testing.assert_allclose(line.y_train, LINE_SLOPE * line.x_train[:, 0], rtol=1e-6)
    xor = make_dataset("xor", samples=400, noise=0.0)
    product = xor.x_train[:, 0] * xor.x_train[:, 1]
    np.testing.assert_array_equal(xor.y_train, (product < 0).astype(np.int64))
    circles = make_dataset("circles", samples=400, noise=0.0)
    radius = np.linalg.norm(circles.x_train, axis=1)
    np.testing.assert_allclose(radius[circles.y_train == 0], 1.0, rtol=1e-5)
    np.testing.assert_allclose(radius[circles.y_train == 1], 0.5, rtol=1e-5)
    moons = make_dataset("moons", samples=400, noise=0.0)
    upper = moons.x_train[moons.y_train == 0]
    np.testing.assert_allclose(np.linalg.norm(upper, axis=1), 1.0, rtol=1e-5)
    assert (upper[:, 1] >= -1e-6).all()


@pytest.mark.parametrize("name", ["spiral", "gaussian"])
def test_more_classes_make_a_multiclass_task(name: str) -> None:
    data = make_dataset(name, samples=300, classes=3)
    assert data.task == "multiclass" and data.classes == 3 and data.output_dim == 3
    assert set(np.unique(data.y_train)) == {0, 1, 2}


@pytest.mark.parametrize("kwargs, where", [
    ({"name": "nope"}, "--dataset"), ({"name": "moons", "samples": 2}, "--samples"),
    ({"name": "moons", "noise": -1.0}, "--noise"),
    ({"name": "spiral", "classes": 1}, "--classes"),
    ({"name": "moons", "test_fraction": 1.0}, "--test-fraction"),
])
def test_bad_settings_name_the_option(kwargs: dict, where: str) -> None:
    with pytest.raises(StudioError) as caught:
        make_dataset(**kwargs)
    assert caught.value.where == where and caught.value.kind == "option"


def _write(tmp_path, text: str):
    path = tmp_path / "points.csv"
    path.write_text(text)
    return path


def test_csv_with_header_comments_and_any_labels(tmp_path) -> None:
    rows = "\n".join(f"{i * 0.1},{-i * 0.2},{7 if i % 2 else -1}" for i in range(10))
    data = load_csv(_write(tmp_path, "x1,x2,label\n# my points\n" + rows + "\n\n"),
                    test_fraction=0.2)
    assert data.task == "binary" and data.classes == 2
    assert len(data.x_train) == 8 and len(data.x_test) == 2
    points = np.concatenate([data.x_train, data.x_test])
    labels = np.concatenate([data.y_train, data.y_test])
    # -1 -> class 0, 7 -> class 1, attached to the right points
    for (x1, _), label in zip(points, labels):
        assert label == (1 if round(x1 * 10) % 2 else 0)


def test_csv_without_header_three_labels_and_two_column_regression(tmp_path) -> None:
    rows = "\n".join(f"{i},{i % 3},{i % 3}" for i in range(12))
    assert load_csv(_write(tmp_path, rows)).task == "multiclass"
    data = load_csv(_write(tmp_path, "\n".join(f"{i},{2 * i}" for i in range(10))))
    assert data.task == "regression" and data.input_dim == 1
    np.testing.assert_allclose(data.y_train, 2 * data.x_train[:, 0])


@pytest.mark.parametrize("text, line, words", [
    ("x1,x2,label\n0,0,1\n1,1,0\n1,0,abc\n0,1,1\n", 4, "not a number"),
    ("0,0,1\n1,1,0,5\n", 2, "columns"),
    ("0,0,1,1\n", 1, "2 or 3 columns"),
    ("0,0,1\n1,1,0.5\n", 2, "whole number"),
    ("0,0,1\n1,1,nan\n", 2, "not finite"),
    ("0,0,1\n1,1,1\n2,2,1\n3,3,1\n", 0, "same label"),
    ("0,0,1\n1,1,0\n", 0, "at least 4 points"),
])
def test_bad_csv_names_file_and_line(tmp_path, text: str, line: int, words: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(StudioError) as caught:
        load_csv(path)
    err = caught.value
    assert err.where == str(path) and err.line == line and words in err.what
    assert err.one_line().startswith(f"error: {path}:{line}:")


def test_missing_csv_is_an_io_error(tmp_path) -> None:
    with pytest.raises(StudioError) as caught:
        load_csv(tmp_path / "missing.csv")
    assert caught.value.kind == "io"

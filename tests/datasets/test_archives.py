"""Finding a data file in folders, zips and tars: the shallowest copy, ties refused."""

from __future__ import annotations

import tarfile
import zipfile

import pytest

from course_lib.datasets.archives import resolve


def read(member) -> bytes:
    with member.open() as handle:
        return handle.read()


def test_zip_with_two_copies_at_the_same_depth_is_refused(tmp_path):
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a/data.txt", "1\n")
        zf.writestr("b/data.txt", "2\n")
        zf.writestr("__MACOSX/data.txt", "mac\n")
    with pytest.raises(ValueError) as err:
        resolve(archive, ["data.txt"], "Toy")
    message = str(err.value)
    assert "holds 2 files named data.txt at the same depth: a/data.txt, b/data.txt" in message
    assert "Fix" in message


def test_zip_and_folder_read_the_shallowest_copy_and_warn(tmp_path):
    archive = tmp_path / "nested.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("x/y/data.txt", "deep\n")
        zf.writestr("x/data.txt", "shallow\n")
    with pytest.warns(UserWarning, match=r"1 deeper file\(s\).*x/y/data.txt.*shallowest"):
        member = resolve(archive, ["data.txt"], "Toy")["data.txt"]
    assert read(member) == b"shallow\n"
    folder = tmp_path / "folder"
    (folder / "y").mkdir(parents=True)
    (folder / "y" / "data.txt").write_text("deep\n")
    (folder / "data.txt").write_text("shallow\n")
    with pytest.warns(UserWarning, match="deeper"):
        assert read(resolve(folder, ["data.txt"], "Toy")["data.txt"]) == b"shallow\n"


def test_tar_read_in_one_pass_refuses_a_shallower_copy_found_later(tmp_path):
    source = tmp_path / "data.txt"
    source.write_text("1\n")
    archive = tmp_path / "order.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(source, arcname="deep/er/data.txt")
        tf.add(source, arcname="top/data.txt")
    member = resolve(archive, ["data.txt"], "Toy")["data.txt"]
    with pytest.raises(ValueError, match=r"the one read, deep/er/data.txt, is deeper than"):
        read(member)


def test_missing_file_folder_in_place_of_a_file_and_not_a_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="data.txt not found: looked in"):
        resolve(tmp_path, ["data.txt"], "Toy")
    (tmp_path / "data.txt").mkdir()
    with pytest.raises(ValueError, match=r"data.txt is a folder, but it should be the data file"):
        resolve(tmp_path, ["data.txt"], "Toy")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve(tmp_path / "nowhere.zip", ["data.txt"], "Toy")

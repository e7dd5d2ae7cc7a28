#!/usr/bin/env python3
"""Tests of scripts/lib/script-commands.py on small made-up repositories.

usage: python3 scripts/lib/test_script_commands.py   (needs shfmt; scripts/test.sh runs it)
"""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "script-commands.py")


def commands(files):
    """The command names the extractor finds in a repo made of FILES (path -> text)."""
    with tempfile.TemporaryDirectory() as d:
        for rel, text in files.items():
            path = os.path.join(d, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        p = subprocess.run([sys.executable, TOOL, d], capture_output=True, text=True, check=False)
        if p.returncode != 0:
            raise AssertionError(p.stderr)
        return {line.split("\t")[0] for line in p.stdout.splitlines()}


class Shell(unittest.TestCase):
    def test_wrappers_are_seen_through_and_counted(self):
        got = commands({"a.sh": "timeout -k 5 10 ip netns exec ns1 env A=1 B=\"$x\" \"${E[@]}\" setsid jq . f\n"
                                "nsenter -t 1 -n -- arping -c1 x | xargs -r kill\n"
                                "sudo -u nobody nohup tcpdump -i any\n"})
        self.assertEqual(got, {"timeout", "ip", "env", "setsid", "jq", "nsenter", "arping", "xargs", "kill", "sudo", "nohup", "tcpdump"})

    def test_builtins_keywords_and_own_functions_are_dropped(self):
        got = commands({"lib/x.sh": "helper() { echo hi; }\n",
                        "b.sh": "#!/bin/bash\nset -e; read -r v; helper; [[ -n $v ]] && printf x; grep -q a b\n"})
        self.assertEqual(got, {"grep"})

    def test_command_strings_are_parsed(self):
        got = commands({"c.sh": "bash -c \"hostname $n; exec /usr/lib/frr/zebra -d\"\n"
                                "vng --exec 'cat /proc/x | wc -l' -r k\n"
                                "trap 'umount /mnt' EXIT; trap - EXIT\n"})
        self.assertEqual(got, {"bash", "hostname", "/usr/lib/frr/zebra", "vng", "cat", "wc", "umount"})

    def test_forwarding_function_and_variables(self):
        got = commands({"d.sh": "nsx() { local ns=$1; shift; ip netns exec \"$ns\" \"$@\"; }\n"
                                "nsx n1 bridge fdb show\n"
                                "DIR=/usr/lib/frr\nfor d in zebra bgpd; do $DIR/$d -d; done\n"
                                "${TOOL_CMD:-exabgp} conf\n\"$EVPND\" show; scripts/vm -- x\n"})
        self.assertEqual(got, {"ip", "bridge", "/usr/lib/frr/zebra", "/usr/lib/frr/bgpd", "exabgp"})

    def test_same_function_name_with_different_meaning_per_file(self):
        got = commands({"lib.sh": "dump() { local f=$1; shift; \"$@\" >>\"$f\"; }\n",
                        "e.sh": "dump() { echo \"$1\"; }\ndump after ri-v2\n",
                        "f.sh": "dump out.txt od -An x\n"})
        self.assertEqual(got, {"od"})

    def test_shebang_script_without_extension(self):
        got = commands({"scripts/tool": "#!/usr/bin/env bash\nsed -n 1p x\n", "notes.txt": "rm -rf /\n"})
        self.assertEqual(got, {"sed"})


class Python(unittest.TestCase):
    def test_subprocess_lists_and_helpers(self):
        got = commands({"p.py": "import subprocess\n"
                                "def run_json(ns, *cmd):\n"
                                "    return subprocess.run(['ip', 'netns', 'exec', ns, *cmd])\n"
                                "run_json('n', 'bridge', '-j', 'fdb')\n"
                                "subprocess.check_output(['tshark', '-r', 'x'])\n"
                                "subprocess.run('jq . | sort', shell=True)\n"})
        self.assertEqual(got, {"ip", "bridge", "tshark", "jq", "sort"})

    def test_helper_with_a_fixed_command_passes_arguments(self):
        got = commands({"q.py": "import subprocess\n"
                                "def git(*args):\n"
                                "    return subprocess.run(['git', *args])\n"
                                "git('rev-parse', 'HEAD')\n"})
        self.assertEqual(got, {"git"})


class Rust(unittest.TestCase):
    def test_command_new_and_args0_helpers(self):
        got = commands({"tests/t.rs": "fn sh(args: &[&str]) { Command::new(args[0]).args(&args[1..]); }\n"
                                      "fn x() { sh(&[\"ip\", \"link\"]); Command::new(\"kill\"); show(&[\"routes\"]); }\n"})
        self.assertEqual(got, {"ip", "kill"})


if __name__ == "__main__":
    unittest.main()

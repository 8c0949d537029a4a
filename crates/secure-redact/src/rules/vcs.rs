//! Source hosting and CI: GitHub, GitLab, Bitbucket, Atlassian, Gitter, Sourcegraph, CircleCI,
//! Travis, Drone, Codecov, Snyk, Sonar, JFrog / Artifactory, Harness, Buildkite, Octopus.

use super::{ctx, raw, Spec};
use crate::Level::{Classified, Sensitive};

pub(crate) fn rules() -> Vec<Spec> {
    vec![
        raw("github-pat", "GitHub personal access token (classic)", Sensitive, &["ghp_"], r"\b(ghp_[A-Za-z0-9]{36})\b").ent(3.0)
            .pos(&["GITHUB_TOKEN=ghp_i6ueojowig3fjl1dzvq3uhfm0ig05bkhoiz6"]).neg(&["ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]),
        raw("github-fine-grained-pat", "GitHub fine-grained personal access token", Sensitive, &["github_pat_"],
            r"\b(github_pat_[A-Za-z0-9_]{82})\b").ent(3.0)
            .pos(&["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"]),
        raw("github-oauth", "GitHub OAuth access token", Sensitive, &["gho_"], r"\b(gho_[A-Za-z0-9]{36})\b").ent(3.0)
            .pos(&["gho_gqs37jjjs7uc1j71zx46txvritunew5kbh0g"]).neg(&["gho_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]),
        raw("github-app-token", "GitHub App user-to-server / server-to-server token", Sensitive, &["ghu_", "ghs_"],
            r"\b((?:ghu|ghs)_[A-Za-z0-9]{36})\b").ent(3.0)
            .pos(&["ghs_gpw3oyd2sp07mshxfqwj090zz8fm4ak1j6oo"]).neg(&["ghs_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]),
        raw("github-refresh-token", "GitHub refresh token", Sensitive, &["ghr_"], r"\b(ghr_[A-Za-z0-9]{36,76})\b").ent(3.0)
            .pos(&["ghr_xu1dsypcgvw0wbydkozbbzkfiopi6t256a00"]).neg(&["ghr_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]),
        raw("gitlab-pat", "GitLab personal access token", Sensitive, &["glpat-"], r"\b(glpat-[A-Za-z0-9_\-]{20})(?:[^A-Za-z0-9_\-.]|$)").ent(3.0)
            .pos(&["gitlab_token: \"glpat-60ap9yb0mdwwerhx6lha\""]).neg(&["glpat-XXXXXXXXXXX-XXXXXXXX"]),
        raw("gitlab-pat-routable", "GitLab routable personal access token", Sensitive, &["glpat-"],
            r"\b(glpat-[A-Za-z0-9_\-]{27,}\.[0-9a-z]{2}[0-9a-z]{7})\b").ent(3.0)
            .pos(&["glpat-7m580oxrg8n0aycdd73kp8oxlff.3hlntp552"]).neg(&["glpat-xxxxxxxx-xxxxxxxxxxxxxxxxxx.xxxxxxxxx"]),
        raw("gitlab-ptt", "GitLab pipeline trigger token", Sensitive, &["glptt-"], r"\b(glptt-[a-f0-9]{40})\b").ent(3.0)
            .pos(&["glptt-583f5f16754ccd0e7a7cd623f3efcd9cc8a9136a"]),
        raw("gitlab-rrt", "GitLab runner registration token", Sensitive, &["gr1348941"], r"\b(GR1348941[A-Za-z0-9_\-]{20})\b").ent(3.0)
            .pos(&["GR1348941fbc1472foqa76l75hpb7"]).neg(&["GR134894112312312312312312312"]),
        raw("gitlab-runner-token", "GitLab runner authentication token", Sensitive, &["glrt-"], r"\b(glrt-[A-Za-z0-9_\-]{20})(?:[^A-Za-z0-9_\-.]|$)").ent(3.0)
            .pos(&["glrt-lvedu2r0b8dvs3ms1uve"]),
        raw("gitlab-runner-token-routable", "GitLab routable runner authentication token", Sensitive, &["glrt-"],
            r"\b(glrt-t\d_[A-Za-z0-9_\-]{27,}\.[0-9a-z]{2}[0-9a-z]{7})\b")
            .pos(&["glrt-t7_1v4dwhcxl651pi9hllrksna12vf.f2701lht6"]),
        raw("gitlab-cicd-job-token", "GitLab CI/CD job token", Sensitive, &["glcbt-"], r"\b(glcbt-(?:[0-9a-zA-Z]{1,5}_)?[A-Za-z0-9_\-]{20})\b")
            .pos(&["glcbt-0di8v_23p8mm56t52np5dxif3a"]),
        raw("gitlab-deploy-token", "GitLab deploy token", Sensitive, &["gldt-"], r"\b(gldt-[A-Za-z0-9_\-]{20})\b")
            .pos(&["gldt-q8Rz3kLm9Vt2Xw7Yp4Bn"]),
        raw("gitlab-feature-flag-token", "GitLab feature-flag client token", Sensitive, &["glffct-"], r"\b(glffct-[A-Za-z0-9_\-]{20})\b")
            .pos(&["glffct-44g4m9gk3f06k4dj70me"]),
        raw("gitlab-feed-token", "GitLab feed token", Sensitive, &["glft-"], r"\b(glft-[A-Za-z0-9_\-]{20})\b")
            .pos(&["glft-9hnv4u4uezmr27pkyvag"]),
        raw("gitlab-incoming-mail-token", "GitLab incoming e-mail token", Sensitive, &["glimt-"], r"\b(glimt-[A-Za-z0-9_\-]{25})\b")
            .pos(&["glimt-6vpn1rk3u3102sprmds9u5qho"]),
        raw("gitlab-kubernetes-agent-token", "GitLab agent for Kubernetes token", Sensitive, &["glagent-"], r"\b(glagent-[A-Za-z0-9_\-]{50})\b")
            .pos(&["glagent-8f7sx3og0pho7oik2bhy7f6fea0qixze4gvqqsghfzb6fomr9s"]),
        raw("gitlab-oauth-app-secret", "GitLab OAuth application secret", Sensitive, &["gloas-"], r"\b(gloas-[A-Za-z0-9_\-]{64})\b")
            .pos(&["gloas-mqt29uqkvwmw2m8ga3w8gz9iwq302h9cq9tkpbjmaig5bwjz0bg9o7zzxn0ucn0d"]),
        raw("gitlab-scim-token", "GitLab SCIM token", Sensitive, &["glsoat-"], r"\b(glsoat-[A-Za-z0-9_\-]{20})\b")
            .pos(&["glsoat-sulp8w31p50z6a1sj0pa"]),
        raw("gitlab-session-cookie", "GitLab session cookie", Sensitive, &["_gitlab_session="], r"_gitlab_session=([0-9a-z]{32})")
            .pos(&["Cookie: _gitlab_session=0254vpi2k6kiz787orj00tsxny6hacjf"]),
        ctx("bitbucket-client-id", "Bitbucket OAuth client id", Sensitive, &["bitbucket"], "bitbucket", r"[A-Za-z0-9]{32}").ent(3.0)
            .pos(&["BITBUCKET_CLIENT_ID=8vdjzf4wt4a14teqhofpebmdtvd3vmd2"]),
        ctx("bitbucket-client-secret", "Bitbucket OAuth client secret", Sensitive, &["bitbucket"], "bitbucket", r"[A-Za-z0-9=_\-]{64}").ent(3.0)
            .pos(&["bitbucket_secret = jgxsuigax0h3zot39nq9uu78etzssdrpugtlvjuf50nj1fzgqr6ttw54ltla66lm"]),
        raw("bitbucket-app-password", "Bitbucket app password / access token", Sensitive, &["atbb", "atctt3"],
            r"\b((?:ATBB|ATCTT3)[A-Za-z0-9_=.\-]{32,})\b").ent(3.5)
            .pos(&["BITBUCKET_APP_PASSWORD=ATBBq8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk2Lm4"]),
        raw("atlassian-api-token", "Atlassian (Jira / Confluence) API token", Sensitive, &["atatt3"], r"\b(ATATT3[A-Za-z0-9_\-=]{186})")
            .pos(&["ATATT3xFfGF0K3irG5tKKi-6u-wwaXQFeGwZ-IHR-hQ3CulkKtMSuteRQFfLZ6jihHThzZCg_UjnDt-4Wl_gIRf4zrZJs5JqaeuBhsfJ4W5GD6yGg3W7903gbvaxZPBjxIQQ7BgFDSkPS8oPispw4KLz56mdK-G6CIvLO6hHRrZHY0Q3tvJ6JxE=C63992E6"]),
        ctx("atlassian-api-token-context", "Atlassian API token assigned in context", Sensitive, &["atlassian", "confluence", "jira"],
            r"atlassian|confluence|jira", r"[A-Za-z0-9]{24}").ent(3.0)
            .pos(&["JIRA_API_TOKEN=jto5jvlg556438bq31ved9cb"]),
        ctx("gitter-access-token", "Gitter access token", Sensitive, &["gitter"], "gitter", r"[A-Za-z0-9_\-]{40}").ent(3.0)
            .pos(&["gitterToken = dxph_x_5klc3q4a_l6z-o5hz2p_y5uyz_hx57toe"]),
        raw("sourcegraph-access-token", "Sourcegraph access token", Sensitive, &["sgp_", "sourcegraph"],
            r"\b(sgp_(?:[a-fA-F0-9]{16}|local)_[a-fA-F0-9]{40}|sgp_[a-fA-F0-9]{40})\b").ent(3.0)
            .pos(&["sgp_0D697F54cb24238EefB29af05Abf1b505E90950F"])
            .neg(&["sgp_5555555dAAAAA7777777CcccCFaaaaaaaaaaaaaa", "sgp_652d9a2e48FC7E!FcDbEA1BC2E2A6CE23cFe7F7D"]),
        raw("circleci-token", "CircleCI personal API token", Sensitive, &["ccipat_"], r"\b(CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40})\b")
            .pos(&["CCIPAT_q8Rz3kLm9Vt2Xw7Yp4Bn6C_9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"]),
        ctx("travisci-access-token", "Travis CI access token", Sensitive, &["travis"], "travis", r"[A-Za-z0-9]{22}").ent(3.0)
            .pos(&["TRAVIS_TOKEN=lvu91z056yivsc2v1hhi73"]),
        ctx("droneci-access-token", "Drone CI access token", Sensitive, &["drone"], "drone", r"[A-Za-z0-9]{32}").ent(3.0)
            .pos(&["DRONE_TOKEN=6t4jwblo9lfce7g49m90itpgigpkksr0"]),
        ctx("codecov-access-token", "Codecov upload token", Sensitive, &["codecov"], "codecov", r"[A-Za-z0-9]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").ent(3.0)
            .pos(&["CODECOV_TOKEN=2fwq3gierd9gb6q1xhyx00e8v2xdjmye"]),
        ctx("snyk-api-token", "Snyk API token", Sensitive, &["snyk"], "snyk", r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
            .pos(&["SNYK_TOKEN=3c9f1d2e-8a7b-4c6d-9e0f-1a2b3c4d5e6f"]),
        ctx("sonar-api-token", "SonarQube / SonarCloud token", Sensitive, &["sonar"], "sonar", r"(?:squ_|sqp_|sqa_)?[A-Za-z0-9=_\-]{40}").ent(3.0)
            .pos(&["SONAR_TOKEN=squ_3f9a1c7e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a", "mvn sonar:sonar -Dsonar.login=7b2e9f4a1c8d3e6f0a5b9c2d7e4f1a8b3c6d9e0f"]),
        raw("azure-devops-pat-v2", "Azure DevOps personal access token, 2024 format (84 characters, JQQJ9 and AZDO marks)", Sensitive, &["jqqj9"],
            r"\b([A-Za-z0-9]{52}JQQJ9[9DH][A-Za-z0-9]{18}AZDO[A-Za-z0-9]{4})\b").win(56, 36)
            .pos(&["azure_devops_pat = \"h8oOOL8dKLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKdNnFRIBXuDL7DJQQJ99xtpYlSXpfKtHF4vUCsAZDOMehG\""]),
        raw("sonar-token-prefixed", "SonarQube token (squ_/sqp_/sqa_)", Sensitive, &["squ_", "sqp_", "sqa_"], r"\b((?:squ|sqp|sqa)_[a-f0-9]{40})\b")
            .pos(&["sqp_3f9a1c7e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a"]),
        raw("artifactory-api-key", "JFrog Artifactory API key", Sensitive, &["akcp"], r"\b(AKCp[A-Za-z0-9]{69})\b").ent(4.0)
            .pos(&["AKCpxOiixgVoOnzyw2MzP0ZvzOMhfWuBByReQMsm9Wcz7uW9XFOGOeMVNen5n1Ae6pWzpF1qH"])
            .neg(&["AKCpXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"]),
        raw("artifactory-reference-token", "JFrog Artifactory reference token", Sensitive, &["cmvmd"], r"\b(cmVmd[A-Za-z0-9]{59})\b").ent(4.0)
            .pos(&["artifactoryRefToken := \"cmVmdimca5sv8mjlibgpkg65fopk0eyymmjualxmryk070zgbrs9gi40tuigbeym\""]),
        ctx("jfrog-api-key", "JFrog API key in context", Sensitive, &["jfrog", "artifactory", "bintray", "xray"], r"jfrog|artifactory|bintray|xray", r"[A-Za-z0-9]{73}")
            .pos(&["jfrog_api_key: ym4l1vfz3zfkkibj3j4wj99ibag7i1mnbqns6puq80idw3706i8j76b2lajlj4h9du7794g9d"]),
        ctx("jfrog-identity-token", "JFrog identity token in context", Sensitive, &["jfrog", "artifactory", "bintray", "xray"], r"jfrog|artifactory|bintray|xray", r"[A-Za-z0-9]{64}")
            .pos(&["JFROG_TOKEN=2by0qx18uv9yebsvhj6p4397j5q7y48mwthy0rgsir79abvk7coc3ll5be9trkal"]),
        raw("harness-api-key", "Harness personal / service account token", Sensitive, &["pat.", "sat."],
            r"\b((?:pat|sat)\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20})\b")
            .pos(&["pat.fsdwm1guzrvbyvq47zwplr.lkb74m3br9q9a92tr5wgqxav.jhmm3ju0d9icaicswbj3"]),
        raw("buildkite-token", "Buildkite agent / API token", Sensitive, &["bkua_"], r"\b(bkua_[a-f0-9]{40})\b")
            .pos(&["bkua_3f9a1c7e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a"]),
        raw("octopus-deploy-api-key", "Octopus Deploy API key", Sensitive, &["api-"], r"\b(API-[A-Z0-9]{26})\b").ent(3.0)
            .pos(&["X-Octopus-ApiKey: API-Q8RZ3KLM9VT2XW7YP4BN6CD1EF"]).neg(&["msgstr \"GSSAPI-VIRHEKAPSELOINTIMERKKIJONO.\""]),
        raw("gitea-token", "Gitea / Forgejo access token in context", Sensitive, &["gitea", "forgejo"],
            r"(?i:gitea|forgejo)[\w.\-]{0,30}[\x22'`]?\s*[:=]\s*[\x22'`]?([a-f0-9]{40})\b")
            .pos(&["GITEA_TOKEN=3f9a1c7e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a"]),
        ctx("terraform-cloud-token-context", "Terraform Cloud token in TF_TOKEN_ variables", Sensitive, &["tf_token_"], r"tf_token_", r"[A-Za-z0-9_.\-]{60,100}").ent(3.5)
            .pos(&["TF_TOKEN_app_terraform_io=PMRCxGgcjBw56EcUngmgMsRcgizeg8Psh4487Q7j58M1cIaHZcUEqPbENqTyH5xJ8tpqXJQ4I9dOv8GZ"]),
        ctx("sidekiq-secret", "Sidekiq Pro / Enterprise credentials", Sensitive, &["contribsys"],
            r"bundle_(?:enterprise|gems)__contribsys__com|contribsys", r"[a-f0-9]{8}:[a-f0-9]{8}")
            .no_anchor()
            .pos(&["BUNDLE_ENTERPRISE__CONTRIBSYS__COM: eecaaa62:ff3fa5f0"]),
        raw("sidekiq-sensitive-url", "Sidekiq gem source URL with credentials", Classified, &["contribsys.com"],
            r"https?://([a-f0-9]{8}:[a-f0-9]{8})@(?:gems|enterprise)\.contribsys\.com")
            .pos(&["https://cafeb4b3:d3adb33f@enterprise.contribsys.com/"]),
    ]
}
